"""Who sits at which counter when: closed counters, lunch rotation, an outage.

Counters with the same department and skills form a pool; a pool's counters take lunch in
staggered groups so that the pool is never empty (a pool of one counter is covered by a colleague
during lunch). Once a day, with the scenario's probability, one counter goes down for a while.
The plan is drawn from its own random stream, so both policies get the same one.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from madoguchi.server.core.site import SiteRules
from madoguchi.server.simulate.scenario import Scenario


@dataclass(frozen=True)
class StaffPlan:
    closed: frozenset[str]
    breaks: tuple[tuple[str, float, float, str], ...]  # counter, from, to (minutes after midnight), reason


def minute_of(time: dt.time) -> float:
    return float(time.hour * 60 + time.minute)


def staff_plan(scenario: Scenario, site: SiteRules, rng: random.Random) -> StaffPlan:
    staff = scenario.staff
    closed = frozenset(staff.closed)
    pools: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for spec in site.counters:
        if spec.id not in closed:
            pools.setdefault((spec.department, tuple(sorted(spec.skills))), []).append(spec.id)
    breaks: list[tuple[str, float, float, str]] = []
    lunch_from = minute_of(staff.lunch_from)
    for members in pools.values():
        if len(members) < 2 or staff.lunch_min <= 0:
            continue
        groups = min(staff.lunch_groups, len(members))
        for index, cid in enumerate(members):
            start = lunch_from + (index % groups) * staff.lunch_min
            breaks.append((cid, start, start + staff.lunch_min, "lunch"))
    outage = scenario.outage
    candidates = [c for c in outage.counters if c not in closed and any(s.id == c for s in site.counters)]
    draw, pick, when = rng.random(), rng.random(), rng.random()
    if candidates and draw < outage.probability:
        cid = candidates[int(pick * len(candidates))]
        start = minute_of(outage.earliest) + when * (minute_of(outage.latest) - minute_of(outage.earliest))
        breaks.append((cid, start, start + outage.duration_min, "outage"))
    return StaffPlan(closed, tuple(breaks))
