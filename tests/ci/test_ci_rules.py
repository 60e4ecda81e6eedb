"""The rules .ci/run adds to `make test`: a skipped test fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NO_SKIPS = ROOT / ".ci" / "no_skips.py"

SUITE = '''
import pytest

@pytest.fixture
def service():
    pytest.skip("the service is busy")  # how the card tests used to skip beside a system pcscd

def test_runs():
    assert 1 + 1 == 2

def test_needs_the_service(service):
    pass
'''


def run_suite(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_suite.py").write_text(source, encoding="utf-8")
    report = tmp_path / "junit.xml"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                    str(tmp_path / "test_suite.py")], cwd=tmp_path, env=env, capture_output=True, timeout=120)
    return subprocess.run([sys.executable, str(NO_SKIPS), str(report)], capture_output=True, text=True, timeout=60)


def test_a_test_skipped_in_its_fixture_fails_the_ci_run_and_is_named_with_its_reason(tmp_path):
    checked = run_suite(tmp_path, SUITE)
    assert checked.returncode == 1
    assert "1 of 2 tests were skipped" in checked.stderr
    assert "test_suite::test_needs_the_service: " in checked.stderr and "the service is busy" in checked.stderr


def test_a_module_skipped_at_import_fails_the_ci_run_too(tmp_path):
    checked = run_suite(tmp_path, 'import pytest\npytest.importorskip("no_such_module_here")\n'
                                  "def test_never_runs():\n    pass\n")
    assert checked.returncode == 1 and "no_such_module_here" in checked.stderr


def test_a_run_where_every_test_ran_passes(tmp_path):
    checked = run_suite(tmp_path, SUITE.replace('    pytest.skip("the service is busy")', "    return 1"))
    assert checked.returncode == 0, checked.stderr
    assert "no test skipped (2 tests)" in checked.stdout


def test_a_missing_report_fails_rather_than_passing_silently(tmp_path):
    checked = subprocess.run([sys.executable, str(NO_SKIPS), str(tmp_path / "absent.xml")], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 1 and "did pytest run" in checked.stderr


def test_ci_run_checks_the_report_of_the_make_test_it_runs():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'make test PYTEST_ARGS="-rs --junitxml=$report_dir/junit.xml' in script
    assert 'python3 .ci/no_skips.py "$report_dir/junit.xml"' in script
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert "\t$(BIN)/python -m pytest -q $(PYTEST_ARGS)" in recipe, "make test must pass PYTEST_ARGS to pytest"
    assert "\t$(BIN)/lint-imports" in recipe, "make test must check the import contracts"
