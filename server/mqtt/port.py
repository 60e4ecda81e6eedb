"""The port through which committed changes reach displays (MQTT) and other listeners.

A publisher receives exactly what it publishes (STYLE §16): each commit's events, every one with the
sequence number of its own event-log row, and the calls among them. The retained state is read
through a callable handed over when the publisher starts, never from the service container.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from madoguchi.common.protocol import CallPayload, DeviceStatusPayload, StatePayload
    from madoguchi.server.core.events import Event

StateReader = Callable[[], "StatePayload"]
"""Reads the state displays see (the MQTT state payload, GET /state) of committed changes only."""


@dataclass(frozen=True)
class SequencedEvent:
    seq: int
    """The event-log sequence number of this event's own row."""
    event: Event


@dataclass(frozen=True)
class Commit:
    """One command's committed changes, as far as listeners are concerned."""

    events: tuple[SequencedEvent, ...]
    calls: tuple[CallPayload, ...]
    """The calls among ``events``, each with the seq of its ``called``/``recalled`` row."""

    @property
    def seq(self) -> int | None:
        """The seq of the commit's last event (None for a commit without events)."""
        return self.events[-1].seq if self.events else None


class Publisher(Protocol):
    def changed(self, commit: Commit) -> None:
        """Called by the writer thread after each commit, in commit order; must not block."""

    def device_status(self, status: DeviceStatusPayload) -> None:
        """A device that talks REST only (a kiosk) reported its health: publish it retained; must not block."""

    def close(self) -> None: ...


class NullPublisher:
    def changed(self, commit: Commit) -> None:
        return None

    def device_status(self, status: DeviceStatusPayload) -> None:
        return None

    def close(self) -> None:
        return None
