"""The kiosk's device status for staff: online, printer and card reader health, "call staff".

DESIGN §6 puts device status on MQTT (``madoguchi/{site}/devices/{device}/status``); the kiosk box
talks to the server over REST only and imports no MQTT client (import-linter), so it sends each change
(and a heartbeat every minute) to ``PUT /api/v1/devices/me/status``: the server shows it to the floor
guide and republishes it retained on the kiosk's MQTT status topic. The status is also written as JSON
to a local file and logged on every change. Never holds personal data or a PIN.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

log = logging.getLogger(__name__)


class DeviceStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = 1
    device: str
    site: str
    online: bool = True
    at: dt.datetime
    printer: str = "unknown"  # PrinterStatus value: online, paper_near_end, paper_end, cover_open, offline…
    card_reader: str = "unknown"  # ok, broken, none
    server: str = "unknown"  # reachable, unreachable
    call_staff: bool = False


HEARTBEAT_S = 60.0
"""A kiosk reports at least this often, so the server can tell a silent (dead) kiosk."""


class StatusSender:
    """Sends the newest status to the server from a thread of its own: a slow or absent server never
    holds up the screen, and only the newest status is sent after an outage."""

    def __init__(self, send: Callable[[DeviceStatus], None], heartbeat_s: float = HEARTBEAT_S) -> None:
        self._send = send
        self._heartbeat_s = heartbeat_s
        self._cond = threading.Condition()
        self._pending: DeviceStatus | None = None
        self._latest: DeviceStatus | None = None
        self._closing = False
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="kiosk-status", daemon=True)
        self._thread.start()

    def offer(self, status: DeviceStatus) -> None:
        with self._cond:
            self._pending = self._latest = status
            self._cond.notify()

    def close(self, timeout_s: float = 3.0) -> None:
        """Send what is pending (the offline status), then stop."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._pending is None and not self._closing:
                    self._cond.wait(self._heartbeat_s)
                status = self._pending or self._latest
                self._pending = None
                closing = self._closing
            if status is not None:
                self._deliver(status)
            if closing:
                return

    def _deliver(self, status: DeviceStatus) -> None:
        try:
            self._send(status)
        except Exception as exc:  # the server is away: say so once, keep the newest for next time
            if not self._failing:
                log.warning("kiosk %s: status not sent to the server (%s); retrying", status.device,
                            type(exc).__name__)
            self._failing = True
            return
        if self._failing:
            log.info("kiosk %s: status reaches the server again", status.device)
        self._failing = False


class StatusReporter:
    def __init__(self, device: str, site: str, path: Path | None,
                 sender: StatusSender | None = None) -> None:
        self.path = path
        self.sender = sender
        self._lock = threading.Lock()
        self.status = DeviceStatus(device=device, site=site, at=dt.datetime.now(dt.UTC))
        self._write()

    def update(self, **changes: object) -> DeviceStatus:
        with self._lock:
            changed = {k: v for k, v in changes.items() if v is not None and getattr(self.status, k) != v}
            if not changed:
                return self.status
            self.status = self.status.model_copy(update={**changed, "at": dt.datetime.now(dt.UTC)})
            level = logging.WARNING if _is_fault(changed) else logging.INFO
            log.log(level, "kiosk %s status: %s", self.status.device,
                    ", ".join(f"{k}={v}" for k, v in sorted(changed.items())))
            self._write()
            return self.status

    def close(self) -> None:
        self.update(online=False)
        if self.sender is not None:
            self.sender.close()

    def _write(self) -> None:
        if self.sender is not None:
            self.sender.offer(self.status)
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.status.model_dump(mode="json"), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)


def _is_fault(changed: dict[str, object]) -> bool:
    return (changed.get("printer") not in (None, "online", "unknown")
            or changed.get("card_reader") == "broken" or changed.get("server") == "unreachable"
            or changed.get("call_staff") is True)
