"""A site (区役所 or 総合出張所) as the core sees it: hours, bands, counters, policy knobs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .catalog import Band, Label
from .counter import CounterState


@dataclass(frozen=True)
class CounterSpec:
    id: str
    label: Label
    department: str
    skills: tuple[str, ...]
    initial_state: CounterState = CounterState.OPEN


@dataclass(frozen=True)
class PolicyRules:
    priority_credit_min: float = 10.0  # how far a flagged visit may move ahead, in minutes of waiting
    aging_factor: float = 2.0  # weight of a band's time without a call (starvation guard)
    walk_min: float = 1.0  # from call to start at the counter


@dataclass(frozen=True)
class SiteRules:
    id: str
    label: Label
    bands: tuple[Band, ...]
    counters: tuple[CounterSpec, ...]
    opens_at: dt.time = dt.time(8, 30)
    closes_at: dt.time = dt.time(17, 15)
    service_from: dt.date | None = None  # the first day the one-stop service opens at this site
    policy: PolicyRules = PolicyRules()

    def band(self, band_id: str) -> Band | None:
        return next((b for b in self.bands if b.id == band_id), None)
