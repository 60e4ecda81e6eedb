"""The kiosk's part of ``madoguchi demo``: one touch kiosk under Xvfb (when there is no screen) against
the demo's server, virtual printer and virtual card, writing a PNG of every screen into the demo folder.

Called by ``madoguchi.server.cli.demo`` with its supervisor's ``start`` (children stop with the demo).
Standard library only at import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

Start = Callable[..., subprocess.Popen[bytes]]
DEMO_STAFF_PIN = "2580"
DEMO_SIZE = "1280x800"


def _free_x_display() -> int:
    for n in range(60, 90):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number between :60 and :89")


def _wait(check: Callable[[], object], timeout_s: float) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    return None


def start_demo_kiosk(start: Start, site: str, data: Path, server_url: str, token: str, printer_uri: str,
                     card_reader: str) -> str:
    """Start the kiosk; return the lines the demo prints about it (never raises: the demo goes on)."""
    try:
        return _start(start, site, data, server_url, token, printer_uri, card_reader)
    except Exception as exc:  # the demo's other parts are worth having without the kiosk
        return f"Touch kiosk: not started ({exc})"


def _start(start: Start, site: str, data: Path, server_url: str, token: str, printer_uri: str,
           card_reader: str) -> str:
    folder = data / "kiosk"
    screens = folder / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    for old in screens.glob("*.png"):
        old.unlink()
    for name, secret in (("token", token), ("staff-pin", DEMO_STAFF_PIN)):
        path = folder / name
        path.write_text(secret + "\n", encoding="utf-8")
        path.chmod(0o600)
    env = {"KIVY_NO_ARGS": "1", "KIVY_HOME": str(folder / "kivy-home"), "SDL_AUDIODRIVER": "dummy"}
    where = "its own window"
    if not os.environ.get("DISPLAY"):
        if shutil.which("Xvfb") is None:
            return "Touch kiosk: not started (no screen here and Xvfb is not installed)"
        n = _free_x_display()
        start("kiosk-xvfb", ["Xvfb", f":{n}", "-screen", "0", f"{DEMO_SIZE}x24", "-nolisten", "tcp"])
        if not _wait(lambda: Path(f"/tmp/.X11-unix/X{n}").exists(), 10):
            raise RuntimeError(f"Xvfb :{n} did not start")
        env["DISPLAY"] = f":{n}"
        where = f"Xvfb :{n} (no screen here)"
    started = time.monotonic()
    start("kiosk", [sys.executable, "-m", "madoguchi.server.cli.main", "kiosk", "--site", site,
                    "--server", server_url, "--token-file", str(folder / "token"), "--printer", printer_uri,
                    "--size", DEMO_SIZE, "--screenshot-dir", str(screens), "--status-file",
                    str(folder / "status.json"), "--staff-pin-file", str(folder / "staff-pin"),
                    "--device", "kiosk-demo"], env)
    shown = _wait(lambda: any(p.name.endswith("-attract-ja.png") for p in screens.glob("*.png")), 30)
    if not shown:
        return f"Touch kiosk: started on {where} but its first screen is not there yet (see logs/kiosk.log)"
    card = "the virtual My Number card (PIN 1234) is in the reader" if "virtual" in card_reader \
        else f"card reader: {card_reader}"
    return "\n".join([
        f"Touch kiosk (kiosk-demo) on {where}, first screen after {time.monotonic() - started:.1f} s:",
        f"  a PNG of every screen it shows lands in {screens} (the newest is what it shows now)",
        f"  its device status (printer, card reader, call staff): {folder / 'status.json'}",
        f"  tickets print on the demo's virtual printer; {card}",
        f"  staff PIN to leave it: {DEMO_STAFF_PIN} (the 係員用 button on the first screen)",
        "",
    ])
