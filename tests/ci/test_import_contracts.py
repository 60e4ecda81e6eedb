"""The import rules in pyproject.toml ([tool.importlinter], run by `make test`) have teeth: one forbidden
import written into a copy of the tree breaks its contract. The real tree is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def copy_of_the_tree(tmp_path: Path) -> Path:
    """``tmp_path/src/madoguchi/<box>`` for every box the editable install maps (package-dir), and the
    real pyproject.toml beside it: the same packages and the same contracts, importable from the copy."""
    package_dirs = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
    src = tmp_path / "src"
    for package, directory in package_dirs.items():
        if (ROOT / directory).is_dir():
            shutil.copytree(ROOT / directory, src / Path(*package.split(".")),
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(PYPROJECT, tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # The copy comes first on sys.path (PathFinder runs before the editable install's finder); wide
    # COLUMNS keeps each contract's line whole.
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "COLUMNS": "400"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(tree / "pyproject.toml")],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=120)


def test_the_copy_is_what_lint_imports_checks_and_it_keeps_every_contract(tmp_path):
    tree = copy_of_the_tree(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    where = subprocess.run([sys.executable, "-c", "import madoguchi.hardware; print(madoguchi.hardware.__file__)"],
                           env=env, cwd=tree, capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(tree / "src")), where.stdout + where.stderr
    checked = lint_imports(tree)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert " broken" in checked.stdout and "0 broken" in checked.stdout


@pytest.mark.parametrize(("module", "forbidden_import", "contract"), [
    ("hardware/_intruder.py", "from madoguchi.server.cli import main", "Hardware drivers know nothing of the server"),
    ("common/_intruder.py", "import madoguchi.hardware.printer", "What the boxes share imports only"),
    ("server/core/_intruder.py", "import sqlite3", "The domain core is pure"),
    ("server/simulate/_intruder.py", "from madoguchi.server.storage import database", "The simulator drives the core"),
])
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, forbidden_import, contract):
    tree = copy_of_the_tree(tmp_path)
    (tree / "src" / "madoguchi" / module).write_text(f"{forbidden_import}\n", encoding="utf-8")
    checked = lint_imports(tree)
    assert checked.returncode != 0, checked.stdout
    broken = [line for line in checked.stdout.splitlines() if line.endswith("BROKEN")]
    assert len(broken) == 1 and broken[0].startswith(contract), checked.stdout
    assert "_intruder" in checked.stdout, "the report names the module that imports what it must not"
