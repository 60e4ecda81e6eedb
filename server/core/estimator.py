"""Wait estimates: expected minutes until a visit is called, with an 80% interval.

The estimate replays the real policy forward from now with the learned handling times
("projection"): each open counter finishes what it is doing, then calls whom the policy would
call, and so on until every waiting visit has a projected call time. A phantom visit at the back
of each band gives the estimate a new arrival would get. The interval widens with the handling
time's variability and narrows with the number of services it averages over.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .handling import HandlingTimes
from .policy import Candidate, Policy, Server

Z80 = 1.2816  # two-sided 80%: 10% in each tail
MIN_REL_SPREAD = 0.15  # even a certain-looking estimate is never exact
PHANTOM_PREFIX = "~phantom:"  # "~" sorts after every ticket id: a phantom never overtakes a real visit


@dataclass(frozen=True)
class Estimate:
    minutes: float
    low: float
    high: float


@dataclass(frozen=True)
class Waiting:
    candidate: Candidate
    remaining: tuple[str, ...] = ()  # procedures after the current one


@dataclass(frozen=True)
class InService:
    counter_id: str
    candidate: Candidate  # the visit at the counter, its current procedure
    busy_since: dt.datetime  # started (or called, when not yet started)
    started: bool
    remaining: tuple[str, ...] = ()


@dataclass(frozen=True)
class Projection:
    """Projected call time (minutes from now) and services averaged over, per ticket id."""

    calls: Mapping[str, tuple[float, int]]
    cv: Mapping[str, float]
    horizon_min: float

    def estimate(self, ticket_id: str) -> Estimate | None:
        projected = self.calls.get(ticket_id)
        if projected is None:
            return None
        minutes, services = projected
        return interval(minutes, self.cv.get(ticket_id, 0.6), services)


def interval(minutes: float, cv: float, services: int) -> Estimate:
    if minutes <= 0:
        return Estimate(0.0, 0.0, 0.0)
    rel = max(cv / math.sqrt(max(services, 1)), MIN_REL_SPREAD)
    sigma = math.sqrt(math.log(1 + rel**2))
    return Estimate(minutes, minutes * math.exp(-Z80 * sigma), minutes * math.exp(Z80 * sigma))


@dataclass(order=True)
class _Busy:
    free_at: float  # minutes from now
    order: int
    counter: Server = field(compare=False)
    counter_id: str = field(compare=False)
    visit: tuple[Candidate, tuple[str, ...]] | None = field(compare=False, default=None)


def project(
    now: dt.datetime,
    counters: Mapping[str, Server],
    in_service: Sequence[InService],
    waiting: Sequence[Waiting],
    policy: Policy,
    handling: HandlingTimes,
    walk_min: float = 1.0,
    horizon_min: float = 480.0,
) -> Projection:
    """Replay ``policy`` forward over the open ``counters`` until every waiting visit is called."""

    def minutes_at(offset: float) -> dt.datetime:
        return now + dt.timedelta(minutes=offset)

    def duration(procedure: str, offset: float) -> float:
        return handling.mean(procedure, minutes_at(offset).hour)

    heap: list[_Busy] = []
    for order, (counter_id, counter) in enumerate(counters.items()):
        heap.append(_Busy(0.0, order, counter, counter_id))
    busy_by_id = {b.counter_id: b for b in heap}
    for service in in_service:
        busy = busy_by_id.get(service.counter_id)
        if busy is None:
            continue
        elapsed = (now - service.busy_since).total_seconds() / 60
        expected = duration(service.candidate.procedure, 0.0) + (0 if service.started else walk_min)
        busy.free_at = max(expected - elapsed, min(1.0, expected / 4))
        busy.visit = (service.candidate, service.remaining)
    heapq.heapify(heap)

    pool: list[tuple[Candidate, tuple[str, ...], float]] = [
        (w.candidate, w.remaining, 0.0) for w in waiting
    ]
    targets = {w.candidate.ticket_id for w in waiting}
    calls: dict[str, tuple[float, int]] = {}
    cvs: dict[str, float] = {}
    services = 0
    while heap and len(calls) < len(targets):
        busy = heapq.heappop(heap)
        t = busy.free_at
        if t > horizon_min:
            break
        if busy.visit is not None:  # the step in hand ends now
            candidate, remaining = busy.visit
            busy.visit = None
            services += 1
            if remaining:
                nxt = Candidate(candidate.ticket_id, candidate.band, remaining[0], candidate.issued_at,
                                minutes_at(t), candidate.priority, True)
                if busy.counter.can_serve(nxt.band, nxt.procedure):
                    busy.free_at = t + duration(nxt.procedure, t)
                    busy.visit = (nxt, remaining[1:])
                    heapq.heappush(heap, busy)
                    continue
                pool.append((nxt, remaining[1:], t))
        ready = [c for c, _, at in pool if at <= t]
        chosen = policy.choose(busy.counter, ready, minutes_at(t)) if ready else None
        if chosen is None:
            later = [at for c, _, at in pool if at > t and busy.counter.can_serve(c.band, c.procedure)]
            if later:
                busy.free_at = min(later)
                heapq.heappush(heap, busy)
            continue
        index = next(i for i, (c, _, _) in enumerate(pool) if c is chosen)
        _, remaining, _ = pool.pop(index)
        if chosen.ticket_id in targets and chosen.ticket_id not in calls:
            calls[chosen.ticket_id] = (t, services // max(len(counters), 1) + 1)
            cvs[chosen.ticket_id] = handling.cv(chosen.procedure, minutes_at(t).hour)
        busy.free_at = t + walk_min + duration(chosen.procedure, t)
        busy.visit = (chosen, remaining)
        heapq.heappush(heap, busy)
    return Projection(calls, cvs, horizon_min)
