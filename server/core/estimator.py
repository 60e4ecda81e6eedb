"""Wait estimates: expected minutes until a visit is called, with an 80% interval.

The estimate replays the real policy forward from now with the learned handling times
("projection"): each available counter finishes what it is doing, then calls whom the policy
would call, and so on until every waiting visit has a projected call time. Counters are away
during their learned breaks (``away``). A phantom visit at the back of each band gives the
estimate a new arrival would get. The interval's spread grows like the square root of the wait
plus a share of it; the published minutes are raised just enough to keep underestimates by more
than 5 minutes rare (``interval``). Measured in simulation: docs/simulation.md.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .handling import HandlingTimes
from .policy import Candidate, Policy, Server

Z80 = 1.2816  # two-sided 80%: 10% in each tail
# How far the real wait strays from the projection. A wait is the sum of the handling times of
# the visits called before it, spread over the counters: its spread grows like the square root of
# its length, cv·√(wait·m) with m the minutes between two calls (a few minutes at a busy office:
# SPREAD_SCALE_MIN). On top, what no projection foresees (a counter down, the guide moving staff,
# a resident who left) grows with the wait itself (SYSTEMATIC_REL). Both measured in simulation
# (docs/simulation.md): with a systematic share of 0.06 the interval held only 60–63% of the waits of
# tickets that actually waited on busy days and 11–14% were called more than 5 minutes late; 0.15
# brings that to 75–79% and 8%, at an MAE a fifth higher, still under half the best baseline's. On
# a pure M/M/3 queue (nothing unforeseen) the interval then covers 84% (tests/sim/test_known_answers.py).
SPREAD_SCALE_MIN = 3.0
SYSTEMATIC_REL = 0.15
# DESIGN §3 counts a visit called more than 5 minutes after its estimate as an underestimate. The
# published minutes are the projection raised just enough that about one visit in ten is
# (the interval's upper bound is the 90% point): nothing is added to short, certain waits.
UNDERESTIMATE_TOLERANCE_MIN = 5.0
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
    """The published estimate for a projected wait of ``minutes`` (``services``: calls averaged over)."""
    if minutes <= 0:
        return Estimate(0.0, 0.0, 0.0)
    spread = math.sqrt(cv**2 * SPREAD_SCALE_MIN * minutes + (SYSTEMATIC_REL * minutes) ** 2)
    high = minutes + Z80 * spread
    return Estimate(max(minutes, high - UNDERESTIMATE_TOLERANCE_MIN), max(minutes - Z80 * spread, 0.0), high)


Entry = tuple[tuple[object, ...], int, Candidate, tuple[str, ...]]  # key, order, visit, steps after


class _Busy:
    """A counter in the projection: when it is next free and the visit it holds until then."""

    __slots__ = ("counter", "counter_id", "free_at", "order", "visit")

    def __init__(self, order: int, counter: Server, counter_id: str) -> None:
        self.free_at = 0.0  # minutes from now
        self.order = order
        self.counter = counter
        self.counter_id = counter_id
        self.visit: tuple[Candidate, str, tuple[str, ...]] | None = None  # the visit, its procedure, steps after

    def entry(self) -> tuple[float, int, _Busy]:
        return self.free_at, self.order, self


class _Pool:
    """The visits waiting in the projection, as the policy sees them.

    When the policy serves, within a band, the eligible visit with the least key (``key``, or the
    policy's own ``queue_key``: true of both of ours, see ``Office.policy_key``), visits are kept
    sorted in groups of one band and procedure, and a counter is shown, per band, only the first
    visit of the groups it can serve: a long queue then costs little, and a single eligible visit
    is the policy's choice without asking. Without a key the policy sees every waiting visit.
    """

    def __init__(self, policy: Policy, key: Callable[[Candidate], tuple[object, ...]] | None,
                 now: dt.datetime, last_called: Mapping[str, dt.datetime]) -> None:
        self.policy = policy
        self.key = key or getattr(policy, "queue_key", None)
        self.groups: dict[tuple[str, str], list[Entry]] = {}
        self.serves: dict[tuple[str, tuple[str, str]], bool] = {}  # (counter id, group) → can serve
        self.seq = 0
        self.now = now
        self.called_before = dict(last_called)  # each band's latest call before the projection
        self.called_at: dict[str, float] = {}  # … and in it, minutes from now

    def last_called(self) -> dict[str, dt.datetime]:
        """Each band's latest call, as the policy needs it (its aging)."""
        found = dict(self.called_before)
        for band, offset in self.called_at.items():
            found[band] = self.now + dt.timedelta(minutes=offset)
        return found

    def add(self, candidate: Candidate, remaining: tuple[str, ...]) -> None:
        self.seq += 1
        key = tuple(self.key(candidate)) if self.key else (self.seq,)
        group = (candidate.band, candidate.procedure) if self.key else ("", "")
        bisect.insort(self.groups.setdefault(group, []), (key, self.seq, candidate, remaining))

    def heads(self) -> list[Candidate]:
        """The first visit of every group."""
        return [entries[0][2] for entries in self.groups.values() if entries]

    def _can_serve(self, counter_id: str, counter: Server, group: tuple[str, str], candidate: Candidate) -> bool:
        known = self.serves.get((counter_id, group))
        if known is None:
            known = self.serves[(counter_id, group)] = counter.can_serve(group[0], group[1])
        return known

    def take(self, counter_id: str, counter: Server, t: float) -> tuple[Candidate, tuple[str, ...]] | None:
        """The visit the policy has ``counter`` call ``t`` minutes from now, removed from the pool."""
        taken = self._take(counter_id, counter, t)
        if taken is not None:
            self.called_at[taken[0].band] = t
        return taken

    def _take(self, counter_id: str, counter: Server, t: float) -> tuple[Candidate, tuple[str, ...]] | None:
        if self.key is None:
            entries = self.groups.get(("", ""), [])
            eligible = [e[2] for e in entries if counter.can_serve(e[2].band, e[2].procedure)]
            picked = self.policy.choose(counter, eligible, self.now + dt.timedelta(minutes=t),
                                        self.last_called()) if eligible else None
            if picked is None:
                return None
            index = next(i for i, e in enumerate(entries) if e[2] is picked)
            return picked, entries.pop(index)[3]
        heads: dict[str, list[Entry]] = {}  # band → the group whose first visit leads the band
        for group, entries in self.groups.items():
            if entries and self._can_serve(counter_id, counter, group, entries[0][2]):
                best = heads.get(group[0])
                if best is None or entries[0] < best[0]:
                    heads[group[0]] = entries
        if not heads:
            return None
        if len(heads) == 1:
            entries = next(iter(heads.values()))
            chosen: Candidate | None = entries[0][2]
        else:
            chosen = self.policy.choose(counter, [e[0][2] for e in heads.values()],
                                        self.now + dt.timedelta(minutes=t), self.last_called())
            if chosen is None:
                return None
            entries = heads[chosen.band]
        entry = entries.pop(0)
        return entry[2], entry[3]


def project(
    now: dt.datetime,
    counters: Mapping[str, Server],
    in_service: Sequence[InService],
    waiting: Sequence[Waiting],
    policy: Policy,
    handling: HandlingTimes,
    walk_min: float = 1.0,
    horizon_min: float = 480.0,
    away: Mapping[str, tuple[float, float]] | None = None,
    queue_key: Callable[[Candidate], tuple[object, ...]] | None = None,
    last_called: Mapping[str, dt.datetime] | None = None,
) -> Projection:
    """Replay ``policy`` forward over the open ``counters`` until every waiting visit is called.

    ``away`` gives, per counter, a window (minutes from now) in which it calls nobody: a paused
    counter until its expected return, an open one during its usual break still ahead today.
    A step in hand is finished first; the visit's next step then waits for another counter.
    ``last_called``: each band's latest call, which the policy's aging looks at.
    """
    away = away or {}
    start_of_hour_min = now.minute + now.second / 60 + now.microsecond / 60e6
    means: dict[tuple[str, int], float] = {}
    cvs_by_key: dict[tuple[str, int], float] = {}
    t = 0.0

    def now_plus_t() -> dt.datetime:
        return now + dt.timedelta(minutes=t)

    def hour_at(offset: float) -> int:
        return (now.hour + int((start_of_hour_min + offset) // 60)) % 24

    def duration(procedure: str, offset: float) -> float:
        key = (procedure, hour_at(offset))
        mean = means.get(key)
        if mean is None:
            mean = means[key] = handling.mean(*key)
        return mean

    def variability(procedure: str, offset: float) -> float:
        key = (procedure, hour_at(offset))
        cv = cvs_by_key.get(key)
        if cv is None:
            cv = cvs_by_key[key] = handling.cv(*key)
        return cv

    counters_busy = [_Busy(order, counter, counter_id) for order, (counter_id, counter) in enumerate(counters.items())]
    busy_by_id = {b.counter_id: b for b in counters_busy}
    for service in in_service:
        busy = busy_by_id.get(service.counter_id)
        if busy is None:
            continue
        elapsed = (now - service.busy_since).total_seconds() / 60
        expected = duration(service.candidate.procedure, 0.0) + (0 if service.started else walk_min)
        busy.free_at = max(expected - elapsed, min(1.0, expected / 4))
        busy.visit = (service.candidate, service.candidate.procedure, service.remaining)
    heap = [b.entry() for b in counters_busy]
    heapq.heapify(heap)

    hand_on = getattr(policy, "hand_on", None)  # the policy may pass a next step to a free counter
    pool = _Pool(policy, queue_key, now, last_called or {})
    for w in waiting:
        pool.add(w.candidate, w.remaining)
    idle: dict[str, _Busy] = {}  # counters with nobody to call, woken when a visit they can serve waits
    targets = {w.candidate.ticket_id for w in waiting}
    calls: dict[str, tuple[float, int]] = {}
    cvs: dict[str, float] = {}
    services = 0
    rounds = max(len(counters), 1)
    while heap and len(calls) < len(targets):
        t, _, busy = heapq.heappop(heap)
        if t > horizon_min:
            break
        window = away.get(busy.counter_id)
        leaving = window is not None and window[0] <= t < window[1]
        if busy.visit is not None:  # the step in hand ends now
            candidate, _, remaining = busy.visit
            busy.visit = None
            services += 1
            if remaining:
                following = remaining[0]
                nxt = dataclasses.replace(candidate, procedure=following, queued_at=now_plus_t(), continuing=True)
                helper = None
                if hand_on is not None and not leaving and hand_on(
                        busy.counter, nxt, [s.counter for s in idle.values()], pool.heads()):
                    helper = next(s for s in idle.values() if s.counter.can_serve(nxt.band, following))
                if helper is not None:  # a free counter calls the next step at once
                    del idle[helper.counter_id]
                    helper.free_at = t + walk_min + duration(following, t)
                    helper.visit = (nxt, following, remaining[1:])
                    heapq.heappush(heap, helper.entry())
                elif not leaving and busy.counter.can_serve(candidate.band, following):
                    busy.free_at = t + duration(following, t)
                    busy.visit = (candidate, following, remaining[1:])
                    heapq.heappush(heap, busy.entry())
                    continue
                else:
                    pool.add(nxt, remaining[1:])
                    for counter_id, sleeper in list(idle.items()):
                        if sleeper.counter.can_serve(nxt.band, nxt.procedure):
                            del idle[counter_id]
                            sleeper.free_at = t
                            heapq.heappush(heap, sleeper.entry())
        if leaving:
            assert window is not None
            busy.free_at = window[1]
            heapq.heappush(heap, busy.entry())
            continue
        taken = pool.take(busy.counter_id, busy.counter, t)
        if taken is None:
            idle[busy.counter_id] = busy
            continue
        chosen, remaining = taken
        if chosen.ticket_id in targets and chosen.ticket_id not in calls:
            calls[chosen.ticket_id] = (t, services // rounds + 1)
            cvs[chosen.ticket_id] = variability(chosen.procedure, t)
        busy.free_at = t + walk_min + duration(chosen.procedure, t)
        busy.visit = (chosen, chosen.procedure, remaining)
        heapq.heappush(heap, busy.entry())
    return Projection(calls, cvs, horizon_min)
