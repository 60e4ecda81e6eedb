"""The kiosk's device status for staff: online, printer and card reader health, "call staff".

DESIGN §6 puts device status on MQTT (``madoguchi/{site}/devices/{device}/status``); the kiosk box
talks to the server over REST only and imports no MQTT client (import-linter), so for now the status
is written as JSON to a file that a supervisor or the floor guide's tooling reads, and logged on every
change (docs/kiosk.md, docs/design-changes.md). Never holds personal data or a PIN.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
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


class StatusReporter:
    def __init__(self, device: str, site: str, path: Path | None) -> None:
        self.path = path
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

    def _write(self) -> None:
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
