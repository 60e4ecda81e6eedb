# The two commands: `make demo` runs one site with virtual devices; `make test` runs the whole suite.
# Both install what is missing first (Debian packages as root, a .venv) through scripts/bootstrap.sh.
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= var/demo

.PHONY: setup demo test bench lint clean

setup:
	@scripts/bootstrap.sh

demo: setup
	$(BIN)/madoguchi demo --data-dir $(DEMO_DIR)

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m tests.bench.run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .ruff_cache .mypy_cache
