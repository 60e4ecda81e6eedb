"""Suggestions for the floor guide: move a named counter from a band with slack to one behind.

Each suggestion carries its predicted effect, computed by re-running the estimate with the
counter's skills changed. The guide accepts or dismisses; both are logged by the office.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .counter import CounterState
from .estimates import compute
from .estimator import Estimate

if TYPE_CHECKING:
    from .office import Office

SLACK_SHARE = 0.5  # a band has slack when a new arrival would wait under half its target


@dataclass(frozen=True)
class Suggestion:
    id: str
    counter_id: str
    from_band: str
    to_band: str
    new_skills: tuple[str, ...]
    before: Mapping[str, Estimate]  # new-arrival estimate per band, now
    after: Mapping[str, Estimate]  # the same if the counter were moved


def suggest(office: Office, now: dt.datetime) -> list[Suggestion]:
    current = compute(office, now).bands  # fresh: a suggestion moves staff, it must not rest on a stale view
    behind = sorted((b for b in office.bands.values() if current[b.id].minutes > b.target_wait_min),
                    key=lambda b: current[b.id].minutes / b.target_wait_min, reverse=True)
    slack = [b for b in office.bands.values() if current[b.id].minutes < SLACK_SHARE * b.target_wait_min]
    suggestions = []
    for to_band in behind:
        best: Suggestion | None = None
        for from_band in slack:
            serving = [c for c in office.counters.values()
                       if c.state is CounterState.OPEN and from_band.id in c.skills]
            if len(serving) < 2:
                continue  # never take the last counter of a band
            for counter in serving:
                if to_band.id in counter.skills:
                    continue
                skills = (counter.skills - {from_band.id}) | {to_band.id}
                moved = {**office.counters, counter.id: dataclasses.replace(counter, skills=skills)}
                after = compute(office, now, moved).bands
                if after[to_band.id].minutes >= current[to_band.id].minutes:
                    continue
                if after[from_band.id].minutes > from_band.target_wait_min:
                    continue
                candidate = Suggestion(f"{counter.id}:{from_band.id}>{to_band.id}", counter.id, from_band.id,
                                       to_band.id, tuple(sorted(skills)), dict(current), dict(after))
                if best is None or after[to_band.id].minutes < best.after[to_band.id].minutes:
                    best = candidate
        if best is not None:
            suggestions.append(best)
    return suggestions
