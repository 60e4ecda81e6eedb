"""What a kiosk is told at start-up (``madoguchi kiosk`` options, DESIGN §5 CLI contract)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class KioskSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: str
    server: str
    """Base URL of the site server, e.g. http://10.0.0.2:8000."""
    token_file: Path
    """File holding this kiosk's device token (``madoguchi device add NAME --kind kiosk``)."""
    device: str = "kiosk"
    printer: str | None = None
    """Ticket printer URI (tcp://HOST:PORT, usb://VID:PID, serial:///dev/ttyS0); none: tickets stay on screen."""
    reader: str | None = None
    """PC/SC reader name; None takes the first reader pcscd reports."""
    size: tuple[int, int] | None = None
    fullscreen: bool = False
    screenshot_dir: Path | None = None
    dpi: float = Field(default=96.0, gt=30, lt=1000)
    """Pixels per inch of the touch screen: touch targets are at least 15 mm on it."""
    staff_pin_file: Path | None = None
    """File holding the staff PIN that leaves full screen (else MADOGUCHI_STAFF_PIN)."""
    status_file: Path | None = None
    """Where the device status (printer, card reader, call staff) is written as JSON."""
    default_language: str = "ja"
    request_timeout_s: float = Field(default=5.0, gt=0)


def staff_pin_checker(settings: KioskSettings) -> Callable[[str], bool]:
    """A comparison against the configured staff PIN; with none configured, nothing opens the exit."""
    if settings.staff_pin_file is not None:
        expected = settings.staff_pin_file.read_text(encoding="utf-8").strip()
    else:
        expected = os.environ.get("MADOGUCHI_STAFF_PIN", "").strip()

    def check(pin: str) -> bool:
        return bool(expected) and hmac.compare_digest(pin.encode(), expected.encode())
    return check
