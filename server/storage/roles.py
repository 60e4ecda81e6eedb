"""Who may sign in: staff roles and device kinds (standard library only, so the CLI can list them early)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    COUNTER = "counter"
    GUIDE = "guide"
    MANAGER = "manager"
    ADMIN = "admin"


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"
