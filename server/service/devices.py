"""The latest health each device reported (kiosks over REST), for the floor guide and the MQTT status topics.

Kept in memory only: a device reports again within a minute, and a restarted server learns the state
again from the next reports. A report older than ``STALE`` means the device stopped reporting.
"""

from __future__ import annotations

import datetime as dt
import threading

from madoguchi.common.protocol import DeviceStatusPayload

STALE = dt.timedelta(minutes=3)
"""A kiosk reports every minute and on every change; three minutes of silence is a dead kiosk."""


class DeviceRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, DeviceStatusPayload] = {}

    def report(self, status: DeviceStatusPayload) -> None:
        with self._lock:
            self._latest[status.device] = status

    def latest(self) -> list[DeviceStatusPayload]:
        """Every device's last report, by device name."""
        with self._lock:
            return [self._latest[name] for name in sorted(self._latest)]


def is_stale(status: DeviceStatusPayload, now: dt.datetime) -> bool:
    return now - status.at > STALE
