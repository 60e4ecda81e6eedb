"""In-process fan-out of committed changes to the staff pages' live streams (server-sent events).

The writer thread hands each committed batch here right after the MQTT publisher, with the same seq
numbers. Each subscriber has a small bounded buffer; a slow browser loses its oldest notices and is
told to resync instead of holding anything up: ``changed`` never blocks and never waits for a reader.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field

from madoguchi.server.mqtt.port import Commit

BUFFER = 64
"""Notices kept per subscriber; beyond that the oldest go and the subscriber is told to resync."""
DEVICES = "devices"
"""The kind of a notice that no commit made: a device's health changed (service/devices.py)."""


@dataclass(frozen=True)
class Notice:
    """What a staff page learns of one commit: enough to know what to read again, no personal data."""

    seq: int
    kinds: tuple[str, ...]
    counters: tuple[str, ...]
    tickets: tuple[str, ...]


def notice_of(commit: Commit) -> Notice | None:
    if commit.seq is None:
        return None
    events = [e.event for e in commit.events]
    return Notice(
        seq=commit.seq,
        kinds=tuple(dict.fromkeys(e.kind.value for e in events)),
        counters=tuple(dict.fromkeys(e.counter_id for e in events if e.counter_id)),
        tickets=tuple(dict.fromkeys(e.ticket_id for e in events if e.ticket_id)),
    )


@dataclass(eq=False)
class Subscription:
    loop: asyncio.AbstractEventLoop
    notices: deque[Notice] = field(default_factory=lambda: deque(maxlen=BUFFER))
    overflowed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self) -> tuple[list[Notice], bool]:
        """The notices since the last take, and whether some were lost (then: read everything again)."""
        with _GUARD:
            taken, lost = list(self.notices), self.overflowed
            self.notices.clear()
            self.overflowed = False
            self.wake.clear()
        return taken, lost


_GUARD = threading.Lock()


class Fanout:
    """Subscribers on the event loop, fed from the writer thread."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(self) -> Subscription:
        """Call on the event loop (the SSE handler)."""
        subscription = Subscription(asyncio.get_running_loop())
        with _GUARD:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with _GUARD:
            self._subscribers.discard(subscription)

    @property
    def count(self) -> int:
        return len(self._subscribers)

    def changed(self, commit: Commit) -> None:
        """Writer thread: add the notice to every buffer and wake its reader; never blocks."""
        notice = notice_of(commit)
        if notice is not None:
            self._post(notice)

    def devices_changed(self) -> None:
        """Any thread (a kiosk's request, the MQTT client): a device's health changed; never blocks."""
        self._post(Notice(seq=0, kinds=(DEVICES,), counters=(), tickets=()))

    def _post(self, notice: Notice) -> None:
        with _GUARD:
            subscribers = list(self._subscribers)
            for sub in subscribers:
                if len(sub.notices) == sub.notices.maxlen:
                    sub.overflowed = True
                sub.notices.append(notice)
        for sub in subscribers:
            try:
                sub.loop.call_soon_threadsafe(sub.wake.set)
            except RuntimeError:  # its loop has closed: the server is stopping
                self.unsubscribe(sub)
