"""The MQTT contract (DESIGN §6): topic builders and payload models, shared by server and display.

Payloads never carry a name, address, birth date or status-page token. ``seq`` is the event-log
sequence number of the change that produced the payload: monotonic across restarts, so a display
that reconnects can ignore what it has already announced.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

ROOT = "madoguchi"
_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _segment(value: str) -> str:
    if not _SEGMENT.match(value):
        raise ValueError(f"not a valid topic segment: {value!r}")
    return value


def state_topic(site: str) -> str:
    return f"{ROOT}/{_segment(site)}/state"


def calls_topic(site: str) -> str:
    return f"{ROOT}/{_segment(site)}/calls"


def events_topic(site: str) -> str:
    return f"{ROOT}/{_segment(site)}/events"


def device_status_topic(site: str, device: str) -> str:
    return f"{ROOT}/{_segment(site)}/devices/{_segment(device)}/status"


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EstimatePayload(Payload):
    minutes: int
    low: int
    high: int


class BandPayload(Payload):
    id: str
    label: dict[str, str]
    waiting: int
    estimate: EstimatePayload
    target_wait_min: float
    last_called: str | None


class CounterPayload(Payload):
    id: str
    label: dict[str, str]
    state: Literal["open", "paused", "closed"]
    serving: str | None
    skills: list[str]


class CallPayload(Payload):
    v: Literal[1] = 1
    seq: int
    site: str
    number: int
    display_number: str
    counter: str
    counter_label: dict[str, str]
    band: str
    recall: bool
    at: dt.datetime


class StatePayload(Payload):
    v: Literal[1] = 1
    seq: int
    site: str
    at: dt.datetime
    bands: list[BandPayload]
    counters: list[CounterPayload]
    recent_calls: list[CallPayload]


class EventPayload(Payload):
    """Anonymised event for a city-level aggregator: no ticket id, no token, no personal data."""

    v: Literal[1] = 1
    seq: int
    site: str
    at: dt.datetime
    kind: str
    band: str | None
    procedure: str | None
    counter: str | None


class DeviceStatusPayload(Payload):
    v: Literal[1] = 1
    device: str
    online: bool
    at: dt.datetime
    printer: str | None = None
    card_reader: str | None = None
