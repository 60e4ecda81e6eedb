"""The display's part of ``madoguchi demo``: one board under Xvfb (when there is no screen), fed by the
demo's broker, writing its screenshots and WAVs into the demo folder; then a sample call to show.

Called by ``madoguchi.server.cli.demo`` with its supervisor's ``start`` (children stop with the demo).
Imports only the standard library here (httpx, present wherever the demo runs, inside the function).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

Start = Callable[..., subprocess.Popen[bytes]]
DEMO_USER = "display-demo"


def _free_x_display() -> int:
    for n in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number between :90 and :139")


def _wait(check: Callable[[], object], timeout_s: float) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            result = check()
        except (OSError, ValueError):
            result = None
        if result:
            return result
        time.sleep(0.2)
    return None


def start_demo_display(start: Start, site: str, data: Path, mqtt_port: int, broker_password: str, server_url: str,
                       staff_password: str, config_dir: Path | None = None) -> str:
    """Start the board; return the lines the demo prints about it (never raises: the demo goes on)."""
    try:
        return _start(start, site, data, mqtt_port, broker_password, server_url, staff_password, config_dir)
    except Exception as exc:  # the demo's other parts are worth having without the board
        return f"Waiting-room display: not started ({exc})"


def _start(start: Start, site: str, data: Path, mqtt_port: int, broker_password: str, server_url: str,
           staff_password: str, config_dir: Path | None) -> str:
    folder = data / "display"
    screens, audio = folder / "screens", folder / "audio"
    for path in (screens, audio):
        path.mkdir(parents=True, exist_ok=True)
    for old in (screens / "screen.json", audio / "announcements.jsonl"):
        old.unlink(missing_ok=True)
    password_file = folder / "broker-password"
    password_file.write_text(broker_password, encoding="utf-8")
    password_file.chmod(0o600)

    env: dict[str, str] = {"PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    where = "its own window"
    if not os.environ.get("DISPLAY"):
        if shutil.which("Xvfb") is None:
            env["SDL_VIDEODRIVER"] = "offscreen"
            where = "off-screen (Xvfb is not installed)"
        else:
            n = _free_x_display()
            start("xvfb", ["Xvfb", f":{n}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
            if not _wait(lambda: Path(f"/tmp/.X11-unix/X{n}").exists(), 10):
                raise RuntimeError(f"Xvfb :{n} did not start")
            env["DISPLAY"] = f":{n}"
            where = f"Xvfb :{n} (no screen here)"
    start("display", [sys.executable, "-m", "madoguchi.server.cli.main", "display", "--site", site,
                      "--broker-host", "127.0.0.1", "--broker-port", str(mqtt_port), "--username", DEMO_USER,
                      "--password-file", str(password_file), "--size", "1920x1080",
                      "--screenshot-dir", str(screens), "--audio-dir", str(audio),
                      *(["--config-dir", str(config_dir)] if config_dir else [])], env)

    def live() -> bool:
        return bool(json.loads((screens / "screen.json").read_text(encoding="utf-8")).get("trusted"))

    if not _wait(live, 30):
        return f"Waiting-room display: started on {where} but not showing the live state yet (see its log)"
    called = _sample_call(server_url, staff_password)
    return "\n".join([
        f"Waiting-room display ({DEMO_USER}) on {where}, following the broker:",
        f"  its screen after each change: {screens / 'screen.png'}",
        f"  each call spoken (chime + Japanese + English) into WAV files in {audio}",
        f"  sample call: {called}",
        "",
    ])


def _sample_call(server_url: str, staff_password: str) -> str:
    import httpx

    with httpx.Client(base_url=server_url, timeout=10) as client:
        token = client.post("/api/v1/auth/token", data={"username": "demo-counter", "password": staff_password,
                                                         "counter": "c4"})
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        ticket = client.post("/api/v1/counters/c4/call-next", headers=headers).json().get("ticket")
    if ticket is None:
        return "nobody waiting at counter c4"
    return f"number {ticket['display_number']} to counter c4 (shown now, spoken in a few seconds)"
