"""Known versions (issue 8.12): a city installs exactly what the tests ran with.

constraints.txt (made by scripts/freeze-constraints.sh from the venv) pins every package that the
project's requirements pull in, and scripts/bootstrap.sh installs with it. When this fails after a
dependency change, refresh the pins as the script's header says.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)$")


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"constraints.txt: not a plain name==version pin: {line!r}"
        found[canonicalize_name(match["name"])] = match["version"]
    return found


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        wanted += [r for r in extra if not r.startswith("madoguchi[")]
    return [Requirement(r) for r in wanted]


def installed_closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every distribution these requirements pull in, with its installed version (markers evaluated)."""
    seen: dict[str, str] = {}
    todo = [(r, frozenset(r.extras)) for r in requirements]
    environment = default_environment()
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        dist = metadata.distribution(requirement.name)
        seen[name] = dist.version
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is not None and not any(
                    sub.marker.evaluate({**environment, "extra": extra}) for extra in (extras or {""})):
                continue
            key = canonicalize_name(sub.name)
            if key not in seen:
                todo.append((sub, frozenset(sub.extras)))
    return seen


def test_bootstrap_installs_with_the_pinned_versions():
    script = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    installs = [line for line in script.splitlines() if "pip install" in line and "-e " in line]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / "bootstrap.sh")], check=True)


def test_every_package_the_project_pulls_in_is_pinned_at_the_version_installed():
    pinned = pins()
    assert "madoguchi" not in pinned, "the project itself is not pinned"
    installed = installed_closure(project_requirements())
    missing = sorted(name for name in installed if name not in pinned)
    assert not missing, f"not pinned (run scripts/freeze-constraints.sh): {missing}"
    differ = {name: (pinned[name], version) for name, version in installed.items() if pinned[name] != version}
    assert not differ, f"pinned vs installed (refresh the pins or the venv): {differ}"


def test_the_freeze_script_writes_plain_pins_without_the_project(tmp_path):
    out = tmp_path / "constraints.txt"
    done = subprocess.run([str(ROOT / "scripts" / "freeze-constraints.sh"), str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in out.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert lines and all(PIN.match(line) for line in lines)
    assert not [line for line in lines if line.lower().startswith("madoguchi")]
    assert {canonicalize_name(line.split("==")[0]) for line in lines} >= set(installed_closure(project_requirements()))
