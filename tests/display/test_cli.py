"""`madoguchi display` refuses bad input with one line a person can act on (exit 2), before opening a window."""

from __future__ import annotations

import subprocess
import sys

DISPLAY = [sys.executable, "-m", "madoguchi.server.cli.main", "display"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DISPLAY, *args], capture_output=True, text=True, timeout=60)


def test_a_bad_size_is_refused_with_the_expected_form():
    done = run("--site", "chuo", "--size", "big")
    assert done.returncode == 2 and "expected WIDTHxHEIGHT" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_site_names_the_known_ones():
    done = run("--site", "atlantis")
    assert done.returncode == 2 and "no site 'atlantis'" in done.stderr and "chuo" in done.stderr


def test_a_missing_password_file_is_named(tmp_path):
    done = run("--site", "chuo", "--password-file", str(tmp_path / "nothing"))
    assert done.returncode == 2 and "--password-file" in done.stderr and "Traceback" not in done.stderr


def test_size_and_fullscreen_exclude_each_other():
    done = run("--site", "chuo", "--size", "1280x720", "--fullscreen")
    assert done.returncode == 2 and "not allowed with" in done.stderr
