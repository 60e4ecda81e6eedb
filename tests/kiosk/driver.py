"""Drives the real Kivy kiosk in this process: one window (Xvfb), real touch events through Kivy's input
pipeline, bounded waits that keep Kivy's event loop turning."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from madoguchi.kiosk.flow import State

_XVFB: subprocess.Popen[bytes] | None = None


def ensure_display() -> None:
    """A private Xvfb for this test process unless a screen is already there (started once)."""
    global _XVFB
    if os.environ.get("DISPLAY") and _XVFB is None and not os.environ.get("MADOGUCHI_TEST_XVFB"):
        return
    if _XVFB is not None:
        return
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is not installed (scripts/bootstrap.sh installs it)"
    for number in range(91, 140):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        process = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not Path(f"/tmp/.X11-unix/X{number}").exists():
            if process.poll() is not None:
                break
            time.sleep(0.05)
        if process.poll() is None and Path(f"/tmp/.X11-unix/X{number}").exists():
            _XVFB = process
            os.environ["DISPLAY"] = f":{number}"
            os.environ["MADOGUCHI_TEST_XVFB"] = "1"
            return
        process.kill()
    raise RuntimeError("could not start Xvfb on any display :91-:139")


def stop_display() -> None:
    global _XVFB
    if _XVFB is not None:
        _XVFB.terminate()
        _XVFB.wait(10)
        _XVFB = None


class Driver:
    def __init__(self, controller: Any) -> None:
        from kivy.base import EventLoop

        self.controller = controller
        self.loop = EventLoop

    def pump(self, seconds: float = 0.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            self.loop.idle()
            if time.monotonic() >= deadline:
                return

    def wait_for(self, check: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.loop.idle()
            result = check()
            if result:
                return result
        raise TimeoutError(f"{what} not seen within {timeout_s} s (screen: {self.controller.flow.state.value})")

    def wait_state(self, state: State, timeout_s: float = 15.0) -> None:
        self.wait_for(lambda: self.controller.flow.state is state, f"screen {state.value}", timeout_s)
        self.pump(0.05)

    def widget(self, kiosk_id: str) -> Any:
        return self.wait_for(lambda: self.controller.widgets().get(kiosk_id), f"widget {kiosk_id!r}", 5)

    def tap(self, kiosk_id: str) -> None:
        """A touch down and up at the centre of the widget, through Kivy's input pipeline."""
        from kivy.tests.common import UnitTestTouch

        self.pump(0.02)
        widget = self.widget(kiosk_id)
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.loop.idle()
        touch.touch_up()
        self.pump(0.02)


@contextmanager
def kiosk_window(size: tuple[int, int]) -> Iterator[None]:
    """Kivy's one window, resized for a test."""
    ensure_display()
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    Window.size = size
    EventLoop.idle()
    yield


def attach(controller: Any) -> None:
    from kivy.core.window import Window

    Window.add_widget(controller.root)
    Window.bind(on_touch_down=_touched(controller))


def detach(controller: Any) -> None:
    from kivy.core.window import Window

    Window.remove_widget(controller.root)
    Window.unbind(on_touch_down=controller._test_touch_binding)


def _touched(controller: Any) -> Callable[..., None]:
    def touched(*_: object) -> None:
        controller.touched()
    controller._test_touch_binding = touched
    return touched
