"""Device health over REST: a kiosk (which speaks no MQTT) reports its printer, card reader and 「係員を呼ぶ」;
the floor guide reads every device's last report. Never personal data: the fields are closed lists."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from madoguchi.common.protocol import DeviceStatusPayload
from madoguchi.server.api.security import Device, Guide, ServicesDep

router = APIRouter(prefix="/devices", tags=["devices"])

PrinterHealth = Literal["online", "paper_near_end", "paper_end", "cover_open", "offline", "no_answer", "unknown"]
ReaderHealth = Literal["ok", "broken", "none", "unknown"]


class DeviceStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    online: bool = True
    printer: PrinterHealth | None = None
    card_reader: ReaderHealth | None = None
    call_staff: bool = False
    """A resident pressed 「係員を呼ぶ」 and waits at the kiosk."""


class DeviceStatusOut(BaseModel):
    device: str
    kind: str
    online: bool
    at: dt.datetime
    printer: str | None
    card_reader: str | None
    call_staff: bool
    stale: bool
    """No report for a while: the device may be off or cut from the network."""


@router.put("/me/status", status_code=204, response_class=Response,
            responses={204: {"description": "Recorded and published on the device's MQTT status topic"}})
def report_status(body: DeviceStatusIn, services: ServicesDep, device: Device) -> Response:
    """The calling device's health now; published retained on ``…/devices/{device}/status``."""
    status = DeviceStatusPayload(device=device.name, online=body.online, at=services.clock.now(),
                                 printer=body.printer, card_reader=body.card_reader, call_staff=body.call_staff)
    services.devices.report(status)
    services.publisher.device_status(status)
    return Response(status_code=204)


@router.get("/status", response_model=list[DeviceStatusOut])
def device_statuses(services: ServicesDep, _: Guide) -> list[DeviceStatusOut]:
    """Each device's last report, for the floor guide: printer out of paper, 「係員を呼ぶ」, a silent kiosk."""
    now = services.clock.now()
    with services.lock:
        kinds = {name: kind for name, kind, _ in services.accounts.devices()}
    return [DeviceStatusOut(device=s.device, kind=kinds.get(s.device, "unknown"), online=s.online, at=s.at,
                            printer=s.printer, card_reader=s.card_reader, call_staff=bool(s.call_staff),
                            stale=services.devices.is_stale(s, now)) for s in services.devices.latest()]
