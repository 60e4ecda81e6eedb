# The two commands: `make demo` runs one site with virtual devices; `make test` runs the whole suite.
# Both install what is missing first (Debian packages as root, a .venv) through scripts/bootstrap.sh.
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= var/demo
# `make demo HOST=0.0.0.0` serves the demo to phones and PCs on the LAN (URLs and QR codes on the LAN
# address). Only HOST given on the command line counts: some shells export HOST as the machine's name.
DEMO_HOST := $(if $(filter command line,$(origin HOST)),$(HOST),127.0.0.1)

.PHONY: setup demo test bench lint clean

setup:
	@scripts/bootstrap.sh

demo: setup
	$(BIN)/madoguchi demo --data-dir $(DEMO_DIR) --host $(DEMO_HOST)

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m tests.bench.run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .ruff_cache .mypy_cache
