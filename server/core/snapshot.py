"""What everyone may see of the office: the content of MQTT ``state`` and ``GET /state``.

No personal data: numbers, bands, counters, waits. Built from the office, never stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .catalog import Label
from .estimates import for_band
from .estimator import Estimate

if TYPE_CHECKING:
    from .office import Office


@dataclass(frozen=True)
class BandState:
    id: str
    label: Label
    waiting: int
    estimate: Estimate
    target_wait_min: float
    last_called: str | None


@dataclass(frozen=True)
class CounterView:
    id: str
    label: Label
    state: str
    serving: str | None  # display number at the counter
    skills: tuple[str, ...]


@dataclass(frozen=True)
class OfficeState:
    site: str
    at: dt.datetime
    bands: tuple[BandState, ...]
    counters: tuple[CounterView, ...]


def snapshot(office: Office, now: dt.datetime) -> OfficeState:
    estimates = office.estimates(now)
    waiting_by_band: dict[str, int] = {}
    newer_by_band: dict[str, list[str]] = {}  # issued since the projection: they lengthen a newcomer's wait
    for visit in office.waiting():
        waiting_by_band[visit.band] = waiting_by_band.get(visit.band, 0) + 1
        if visit.id not in estimates.tickets:
            newer_by_band.setdefault(visit.band, []).append(visit.procedure)
    bands = tuple(
        BandState(b.id, b.label, waiting_by_band.get(b.id, 0),
                  for_band(office, estimates, b.id, newer_by_band.get(b.id, []), now), b.target_wait_min,
                  office.last_called.get(b.id))
        for b in office.bands.values()
    )
    counters = []
    for counter in office.counters.values():
        ticket = office.ticket_at(counter)
        counters.append(CounterView(counter.id, counter.label, counter.state.value,
                                    ticket.display_number if ticket else None, tuple(sorted(counter.skills))))
    return OfficeState(office.site.id, now, bands, tuple(counters))
