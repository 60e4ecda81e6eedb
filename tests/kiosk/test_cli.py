"""`madoguchi kiosk` as a process: starts on its first screen, leaves cleanly on SIGTERM, refuses bad options."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live import LiveServer

pytestmark = pytest.mark.usefixtures("kivy_window")  # its Xvfb gives the process a screen


def kiosk_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "madoguchi.server.cli.main", "kiosk", *args]


def test_the_kiosk_process_shows_its_first_screen_and_stops_on_sigterm(live_server: LiveServer, token_file: Path,
                                                                        tmp_path: Path) -> None:
    shots, status = tmp_path / "shots", tmp_path / "status.json"
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy")}
    started = time.monotonic()
    process = subprocess.Popen(kiosk_command("--site", "chuo", "--server", live_server.url, "--token-file",
                                             str(token_file), "--size", "800x480", "--screenshot-dir", str(shots),
                                             "--status-file", str(status), "--device", "kiosk-cli"),
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not list(shots.glob("*-attract-ja.png")):
            assert process.poll() is None, process.stdout.read().decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "no first screen within 30 s"
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        assert json.loads(status.read_text(encoding="utf-8"))["server"] == "reachable"
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode(errors="replace")
    assert process.returncode == 0, output[-2000:]
    assert json.loads(status.read_text(encoding="utf-8"))["online"] is False
    assert "Traceback" not in output
    assert elapsed < 10, f"first screen after {elapsed:.1f} s"


@pytest.mark.parametrize(("args", "says"), [
    (["--size", "10x10"], "between 320x240"),
    (["--size", "wide"], "is not WIDTHxHEIGHT"),
    (["--size", "800x480", "--fullscreen"], "not allowed with"),
])
def test_bad_screen_options_are_refused_with_a_reason(args: list[str], says: str, tmp_path: Path) -> None:
    result = subprocess.run(kiosk_command("--site", "chuo", "--server", "http://127.0.0.1:9", "--token-file",
                                          str(tmp_path / "t"), *args), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and says in result.stderr


def test_a_missing_token_file_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(kiosk_command("--site", "chuo", "--server", "http://127.0.0.1:9", "--token-file",
                                          str(tmp_path / "missing")), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "cannot read the kiosk token" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_kiosk_command_imports_nothing_of_the_servers_extra() -> None:
    """A kiosk box installs [kiosk] only: the dispatcher and the kiosk's modules must not need FastAPI & co."""
    probe = (
        "import sys\n"
        "from madoguchi.server.cli import main\n"
        "main.build_parser()\n"
        "import madoguchi.kiosk.cli, madoguchi.kiosk.effects, madoguchi.kiosk.screens, madoguchi.kiosk.printing\n"
        "heavy = {'fastapi', 'uvicorn', 'starlette', 'argon2', 'cryptography', 'paho', 'jinja2', 'openpyxl',\n"
        "         'prometheus_client', 'sqlite_utils'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
