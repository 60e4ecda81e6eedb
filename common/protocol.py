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
    audio: Literal["ok", "muted", "off", "failed"] | None = None
    """A display's sound: playing, muted on purpose, turned off (--no-audio), or failed (no sound card)."""
    last_state_seq: int | None = None
    """A display's newest state shown (its ``seq``), so staff see one that stopped following."""
    last_state_at: dt.datetime | None = None
    """When that state arrived at the display."""
    call_staff: bool | None = None
    """A kiosk's 「係員を呼ぶ」: a resident is waiting at it for the floor guide."""


# --- helpers for subscribers (displays, the city view) ---------------------------------------------

CREDENTIAL_REFUSALS = frozenset({"Bad user name or password", "Not authorized", "Banned",
                                 "Bad authentication method"})
"""CONNACK reasons that another attempt with the same credentials cannot fix (MQTT v5 names; paho maps the
v3.1.1 return codes 4 and 5 onto the same names; mosquitto 2.0 answers a wrong password with "Not
authorized" for both protocol versions): a client that meets one stops retrying and says so."""

SERVER_DEVICE = "server"
"""Device id of the site server in ``devices/{device}/status`` (its retained birth and last will)."""


def server_status_topic(site: str) -> str:
    return device_status_topic(site, SERVER_DEVICE)


def site_filter(site: str) -> str:
    """The subscription that receives everything of one site (what a display subscribes to)."""
    return f"{ROOT}/{_segment(site)}/#"


Message = StatePayload | CallPayload | EventPayload | DeviceStatusPayload


def parse_message(site: str, topic: str, payload: bytes | str) -> Message | None:
    """The typed payload of a message of ``site``, or None for a topic outside this contract.

    Raises pydantic's ``ValidationError`` for a payload that does not match its topic's model.
    """
    if topic == state_topic(site):
        return StatePayload.model_validate_json(payload)
    if topic == calls_topic(site):
        return CallPayload.model_validate_json(payload)
    if topic == events_topic(site):
        return EventPayload.model_validate_json(payload)
    prefix, suffix = f"{ROOT}/{site}/devices/", "/status"
    if topic.startswith(prefix) and topic.endswith(suffix) and "/" not in topic[len(prefix):-len(suffix)]:
        return DeviceStatusPayload.model_validate_json(payload)
    return None


class SeenCalls:
    """Which calls a display has already shown, by ``seq``, so that none is announced twice.

    After a reconnect the display rebuilds from the retained state: the calls listed there count as
    seen (they are shown, not announced). A call that arrives again (QoS 1 redelivery, a persistent
    session, the server re-sending after its own reconnect) has a ``seq`` already seen and is ignored.
    """

    def __init__(self) -> None:
        self.highest_seq = 0

    def is_new(self, call: CallPayload) -> bool:
        """True exactly once per call: announce it; False for anything already seen."""
        if call.seq <= self.highest_seq:
            return False
        self.highest_seq = call.seq
        return True

    def saw_state(self, state: StatePayload) -> None:
        """Mark the calls of a (retained) state as seen, without announcing them.

        A state may be older than the newest call (the server sends a call at once and coalesces the
        state), so a lower ``state.seq`` says nothing: only the highest seq ever seen counts.
        """
        for call in state.recent_calls:
            self.highest_seq = max(self.highest_seq, call.seq)
