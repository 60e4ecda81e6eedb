"""The latest health each device reported, for the floor guide's alerts, the admin page and the MQTT status topics.

Kiosks report over REST (``PUT /api/v1/devices/me/status``); displays publish their retained status on
MQTT and the server's MQTT client hands it here (docs/design-changes.md). Kept in memory only: a device
reports again within a minute, and a restarted server learns the state again from the next reports
(the broker's retained statuses come at once). A report older than ``stale`` means the device stopped
reporting.

Every change a person would notice (printer, card reader, 「係員を呼ぶ」, online, a guide's acknowledgement)
calls ``on_change`` — the staff pages' live stream — and a heartbeat that changes nothing does not.
Nothing commits when a device goes silent: the staff stream asks ``next_stale_at`` when to look again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

from madoguchi.common.protocol import DeviceStatusPayload

STALE = dt.timedelta(minutes=3)
"""A kiosk reports every minute and on every change; three minutes of silence is a dead kiosk."""

PRINTER_ALERTS = frozenset({"paper_end", "cover_open", "offline", "no_answer"})
"""Printer states that stop the kiosk issuing tickets: the floor guide must go there."""


def _shown(status: DeviceStatusPayload) -> tuple[object, ...]:
    """What staff see of a report (everything but its time)."""
    return (status.online, status.printer, status.card_reader, bool(status.call_staff), status.audio)


@dataclass(frozen=True)
class Alert:
    """Something at a device a floor guide must see to: ``kind`` is call_staff, printer or offline."""

    device: str
    kind: str
    detail: str | None
    since: dt.datetime


class DeviceRegistry:
    def __init__(self, stale: dt.timedelta = STALE, on_change: Callable[[], None] | None = None) -> None:
        self.stale = stale
        self.on_change = on_change or (lambda: None)
        self._lock = threading.Lock()
        self._latest: dict[str, DeviceStatusPayload] = {}
        self._acknowledged: set[str] = set()
        """Kiosks whose current 「係員を呼ぶ」 a guide answered; forgotten when the kiosk stops calling."""
        self._called_at: dict[str, dt.datetime] = {}

    def report(self, status: DeviceStatusPayload) -> bool:
        """Record a report (an older one than the last, e.g. the broker echoing a kiosk's, is ignored);
        True, and ``on_change`` called, when staff would see a difference."""
        with self._lock:
            before = self._latest.get(status.device)
            if before is not None and status.at < before.at:
                return False
            self._latest[status.device] = status
            if status.call_staff and status.device not in self._called_at:
                self._called_at[status.device] = status.at
            if not status.call_staff:
                self._called_at.pop(status.device, None)
                self._acknowledged.discard(status.device)
            changed = before is None or _shown(before) != _shown(status) or now_stale(before, status, self.stale)
        if changed:
            self.on_change()
        return changed

    def acknowledge(self, device: str) -> bool:
        """A guide answered the kiosk's call: the alert goes for every guide until the kiosk calls again.
        False when that device is not calling."""
        with self._lock:
            calling = device in self._called_at and device not in self._acknowledged
            if calling:
                self._acknowledged.add(device)
        if calling:
            self.on_change()
        return calling

    def latest(self) -> list[DeviceStatusPayload]:
        """Every device's last report, by device name."""
        with self._lock:
            return [self._latest[name] for name in sorted(self._latest)]

    def is_stale(self, status: DeviceStatusPayload, now: dt.datetime) -> bool:
        return now - status.at > self.stale

    def alerts(self, now: dt.datetime, known: set[str]) -> list[Alert]:
        """The alerts of the devices in ``known`` (not revoked): calls first, then printers, then silence."""
        with self._lock:
            latest = [s for name, s in sorted(self._latest.items()) if name in known]
            called, acknowledged = dict(self._called_at), set(self._acknowledged)
        found: list[Alert] = []
        for s in latest:
            if s.device in called and s.device not in acknowledged:
                found.append(Alert(s.device, "call_staff", None, called[s.device]))
        for s in latest:
            if s.printer in PRINTER_ALERTS:
                found.append(Alert(s.device, "printer", s.printer, s.at))
        for s in latest:
            if not s.online or self.is_stale(s, now):
                found.append(Alert(s.device, "offline", None, s.at))
        return found

    def silent(self, now: dt.datetime) -> frozenset[str]:
        """The devices that went silent (no report for ``stale``) as of ``now``."""
        with self._lock:
            return frozenset(name for name, s in self._latest.items() if s.online and now - s.at > self.stale)

    def next_stale_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the next device that reports now would count as silent (None: no device to watch)."""
        with self._lock:
            ahead = [s.at + self.stale for s in self._latest.values() if s.online and s.at + self.stale >= now]
        return min(ahead) if ahead else None


def now_stale(before: DeviceStatusPayload, after: DeviceStatusPayload, stale: dt.timedelta) -> bool:
    """The device had gone silent and speaks again (its offline alert ends)."""
    return after.at - before.at > stale
