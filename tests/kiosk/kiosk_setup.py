"""Builds a kiosk controller on the test window against a live server and real (virtual) devices."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from madoguchi.kiosk.status import StatusReporter
from tests.kiosk.driver import Driver, attach, detach

STAFF_PIN = "2468"


@contextmanager
def running_kiosk(url: str, token: str, *, printer: Any = None, reader: Any = None, status_file: Path | None = None,
                  size: tuple[int, int] = (1920, 1080), timeout_s: float = 5.0) -> Iterator[Driver]:
    from kivy.core.window import Window

    from madoguchi.kiosk.app import KioskController
    from madoguchi.kiosk.client import KioskClient

    Window.size = size
    client = KioskClient(url, token, timeout_s=timeout_s)
    status = StatusReporter("kiosk-test", "chuo", status_file)
    controller = KioskController(client=client, printer=printer, reader=reader, status=status,
                                 staff_pin_ok=lambda pin: pin == STAFF_PIN)
    attach(controller)
    controller.start()
    driver = Driver(controller)
    try:
        yield driver
    finally:
        controller.stop()
        detach(controller)
        driver.pump(0.05)
        client.close()
