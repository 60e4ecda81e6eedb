"""Suggestions for the floor guide: let a counter help a band that is behind, and send it back after.

A band is "behind" when a new arrival's estimate exceeds its target. Two kinds of suggestion:

- **help**: a counter of a band with slack (a new arrival there would wait under half its target)
  also serves the band behind. It keeps its own band, so the balancing policy chooses call by call
  which of the two is further behind: the band it comes from is never left short, and nothing has
  to be undone by hand when the rush moves (measured in simulation: swapping the band, as this
  module used to, left the simple band flooded on busy days because a move back needed slack the
  flooded band never had; docs/simulation.md).
- **return**: a counter that serves a band the site does not configure it for goes back to its
  configured skills when its own band falls behind (first), or once the band it helps has slack.

Department counters, whose skills are procedures, are not proposed: their staff do their own
department's work (the balancing policy already hands them their department's steps). Each
suggestion carries its predicted effect, computed by re-running the estimate with the counter's
skills changed; the simulator checks it against the waits that followed. The guide accepts or
dismisses; both are logged by the office.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .counter import Counter, CounterState
from .estimates import compute
from .estimator import Estimate

if TYPE_CHECKING:
    from .office import Office

SLACK_SHARE = 0.5  # a band has slack when a new arrival would wait under half its target


@dataclass(frozen=True)
class Suggestion:
    id: str
    counter_id: str
    from_band: str  # help: the band the counter serves already; return: the band it stops serving
    to_band: str  # help: the band behind it also serves; return: its configured band
    new_skills: tuple[str, ...]
    before: Mapping[str, Estimate]  # new-arrival estimate per band, now
    after: Mapping[str, Estimate]  # the same with the counter's new skills
    returning: bool = False  # back to the skills the site configures


def suggest(office: Office, now: dt.datetime) -> list[Suggestion]:
    current = compute(office, now).bands  # fresh: a suggestion moves staff, it must not rest on a stale view
    bands = office.bands
    home = {spec.id: frozenset(spec.skills) for spec in office.site.counters}

    def slack(band: str) -> bool:
        return current[band].minutes < SLACK_SHARE * bands[band].target_wait_min

    def after_with(counter: Counter, skills: frozenset[str]) -> Mapping[str, Estimate]:
        moved: dict[str, Counter] = {**office.counters, counter.id: dataclasses.replace(counter, skills=skills)}
        return compute(office, now, moved).bands

    open_counters = [c for c in office.counters.values() if c.state is CounterState.OPEN]
    behind = sorted((b for b in bands.values() if current[b.id].minutes > b.target_wait_min),
                    key=lambda b: current[b.id].minutes / b.target_wait_min, reverse=True)
    suggestions: list[Suggestion] = []
    for to_band in behind:
        best: Suggestion | None = None
        for counter in open_counters:  # counters that help elsewhere while their own band is behind
            configured = home.get(counter.id, counter.skills)
            extra = sorted(b for b in counter.skills - configured if b in bands)
            if to_band.id in configured and extra:
                after = after_with(counter, configured)
                if best is None or after[to_band.id].minutes < best.after[to_band.id].minutes:
                    best = Suggestion(f"{counter.id}:{extra[0]}>{to_band.id}", counter.id, extra[0], to_band.id,
                                      tuple(sorted(configured)), dict(current), dict(after), True)
        if best is None:
            for from_band in (b for b in bands.values() if b.id != to_band.id and slack(b.id)):
                for counter in open_counters:
                    if from_band.id not in counter.skills or to_band.id in counter.skills:
                        continue
                    skills = counter.skills | {to_band.id}
                    after = after_with(counter, skills)
                    if after[to_band.id].minutes >= current[to_band.id].minutes:
                        continue
                    if after[from_band.id].minutes > from_band.target_wait_min:
                        continue
                    if best is None or after[to_band.id].minutes < best.after[to_band.id].minutes:
                        best = Suggestion(f"{counter.id}:{from_band.id}+{to_band.id}", counter.id, from_band.id,
                                          to_band.id, tuple(sorted(skills)), dict(current), dict(after))
        if best is not None:
            suggestions.append(best)
    for counter in open_counters:  # the rush is over: back to the configured skills
        configured = home.get(counter.id, counter.skills)
        extra = sorted(b for b in counter.skills - configured if b in bands)
        if not extra or not all(slack(b) for b in extra) or any(s.counter_id == counter.id for s in suggestions):
            continue
        after = after_with(counter, configured)
        if all(after[b].minutes <= bands[b].target_wait_min for b in extra):
            suggestions.append(Suggestion(f"{counter.id}:{extra[0]}>home", counter.id, extra[0],
                                          next(iter(sorted(configured & set(bands))), extra[0]),
                                          tuple(sorted(configured)), dict(current), dict(after), True))
    return suggestions
