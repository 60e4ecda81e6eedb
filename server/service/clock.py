"""Clocks: the one place the server reads the time. Tests and the simulator pass their own."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def __init__(self, timezone: str = "Asia/Tokyo") -> None:
        self.tz = ZoneInfo(timezone)

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.tz)


class ManualClock:
    """A clock that moves only when told (tests, demos of a given hour)."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now

    def set(self, when: dt.datetime) -> None:
        self._now = when
