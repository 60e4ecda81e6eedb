"""The systemd units a city installs start commands that exist: every ExecStart, with its instance and the
example environment file filled in, is accepted by madoguchi's own parser; and systemd itself finds no
error in the unit files."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from madoguchi.server.cli.main import build_parser

UNITS = Path(__file__).resolve().parents[2] / "config" / "systemd"
INSTANCES = {"madoguchi-server@.service": ("chuo", "site.env.example"),
             "madoguchi-display@.service": ("display-1", "display.env.example"),
             "madoguchi-kiosk@.service": ("kiosk-1", "kiosk.env.example")}


def example_environment(name: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (UNITS / name).read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def exec_start(unit: str) -> str:
    text = (UNITS / unit).read_text(encoding="utf-8").replace("\\\n", " ")
    return next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart="))


@pytest.mark.parametrize("unit", sorted(INSTANCES))
def test_every_units_command_line_is_one_madoguchi_accepts(unit):
    instance, env_file = INSTANCES[unit]
    env = {"MADOGUCHI_DISPLAY_OPTIONS": "", **example_environment(env_file)}
    line = exec_start(unit).replace("%i", instance)
    line = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line)  # ${VAR}: one word
    words = [w for word in shlex.split(line) for w in (shlex.split(env[word[1:]]) if word.startswith("$") else [word])]
    assert words[0] == "/opt/madoguchi/bin/madoguchi", words
    args = build_parser().parse_args(words[1:])  # an unknown option or a missing one exits here
    assert args.site == "chuo"


def test_systemd_finds_no_syntax_error_in_the_units(tmp_path):
    for unit in INSTANCES:
        copy = tmp_path / unit.replace("@.", "@x.")
        copy.write_text((UNITS / unit).read_text(encoding="utf-8"), encoding="utf-8")
        done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True,
                              timeout=60)
        problems = [line for line in done.stderr.splitlines()
                    if "Unknown key" in line or "Invalid" in line or "Failed to parse" in line
                    or "Unknown section" in line or "Missing '='" in line]
        assert not problems, problems
