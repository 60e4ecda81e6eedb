"""Who is called next: a pure function of the waiting visits, the counter and the time.

``BalancedPolicy`` is the one of DESIGN §3: the band furthest behind its target first, FIFO by
visit start within a band (a continuing visit keeps its place and is never sent to the back),
flagged priority moving ahead by at most ``priority_credit_min`` minutes.

"Furthest behind" is the head's wait over the band's target, with aging: the time the band has
gone without a call (while someone waited in it) counts ``aging_factor`` times more. Without aging
a flooded band starves the others: its head, older than any newcomer elsewhere, keeps the highest
ratio for as long as the flood lasts (see tests/unit/test_policy_properties.py).

``StaticFifoPolicy`` is today's practice, the baseline: each counter serves whoever has waited
longest at its own queue. ``VisitFifoPolicy`` is the one-ticket baseline of the simulation's
ladder: one queue across bands and departments, first come (by visit start) first served.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .catalog import Band
from .site import PolicyRules


@dataclass(frozen=True, slots=True)
class Candidate:
    """A waiting visit as the policy sees it."""

    ticket_id: str
    band: str
    procedure: str
    issued_at: dt.datetime  # start of the visit: the FIFO key
    queued_at: dt.datetime  # when it began waiting for this step
    priority: bool = False
    continuing: bool = False
    number: int = 0  # the ticket number: issue order when visits started at the same instant
    sent_to: str | None = None  # the counter a previous counter sent this step to: only it calls the visit


class Server(Protocol):
    """What a policy needs to know of a counter."""

    def can_serve(self, band: str, procedure: str) -> bool: ...


class HandsOn(Protocol):
    """A policy that may send a visit's next step to another free counter (``BalancedPolicy.hand_on``)."""

    def hand_on(self, counter: Server, following: Candidate, free: Iterable[Server],
                waiting: Iterable[Candidate]) -> bool: ...


class Policy(Protocol):
    def choose(self, counter: Server, candidates: Iterable[Candidate], now: dt.datetime,
               last_called: Mapping[str, dt.datetime] | None = None) -> Candidate | None:
        """The visit ``counter`` calls now; ``last_called`` is each band's latest call time."""
        ...


@dataclass(frozen=True)
class BalancedPolicy:
    bands: Mapping[str, Band]
    priority_credit_min: float = PolicyRules.priority_credit_min
    aging_factor: float = PolicyRules.aging_factor

    @classmethod
    def for_site(cls, bands: Mapping[str, Band], rules: PolicyRules) -> BalancedPolicy:
        """The policy with a site's own knobs (the one way the office and the simulator build it)."""
        return cls(bands, rules.priority_credit_min, rules.aging_factor)

    def queue_key(self, candidate: Candidate) -> tuple[dt.datetime, bool, int, str]:
        """Order within a band: visit start, minus the priority credit; mid-plan visits win ties."""
        key = candidate.issued_at
        if candidate.priority:
            key -= dt.timedelta(minutes=self.priority_credit_min)
        return key, not candidate.continuing, candidate.number, candidate.ticket_id

    def urgency(self, head: Candidate, now: dt.datetime, last_called: dt.datetime | None = None) -> float:
        """How far the band is behind its target: the head's wait, plus the band's time without a
        call weighted by the aging factor, over the target wait."""
        since = self.queue_key(head)[0]
        waited_min = (now - since).total_seconds() / 60
        unserved_from = max(last_called, since) if last_called is not None else since
        unserved_min = max((now - unserved_from).total_seconds() / 60, 0.0)
        return (waited_min + self.aging_factor * unserved_min) / self.bands[head.band].target_wait_min

    def heads(self, counter: Server, candidates: Iterable[Candidate]) -> dict[str, Candidate]:
        """The first visit of each band that ``counter`` can serve."""
        heads: dict[str, Candidate] = {}
        for candidate in candidates:
            if not counter.can_serve(candidate.band, candidate.procedure):
                continue
            head = heads.get(candidate.band)
            if head is None or self.queue_key(candidate) < self.queue_key(head):
                heads[candidate.band] = candidate
        return heads

    def hand_on(self, counter: Server, following: Candidate, free: Iterable[Server],
                waiting: Iterable[Candidate]) -> bool:
        """Whether ``counter``, its step done, sends the visit's next step (``following``) on to another
        counter instead of continuing it: when one of the ``free`` counters can serve that step and
        someone ``waiting`` needs ``counter``. A one-stop counter that carries every department's
        step while the department counters idle is the bottleneck of a busy day (docs/simulation.md);
        with nobody waiting for it, it continues (the resident stays seated)."""
        if not any(c.can_serve(following.band, following.procedure) for c in free):
            return False
        return any(counter.can_serve(w.band, w.procedure) for w in waiting if w.ticket_id != following.ticket_id)

    def choose(self, counter: Server, candidates: Iterable[Candidate], now: dt.datetime,
               last_called: Mapping[str, dt.datetime] | None = None) -> Candidate | None:
        heads = self.heads(counter, candidates)
        if not heads:
            return None
        called = last_called or {}
        return max(heads.values(), key=lambda head: (self.urgency(head, now, called.get(head.band)),
                                                     head.continuing))


@dataclass(frozen=True)
class StaticFifoPolicy:
    """Baseline: each counter serves its own queue in order of arrival at that queue."""

    def choose(self, counter: Server, candidates: Iterable[Candidate], now: dt.datetime,
               last_called: Mapping[str, dt.datetime] | None = None) -> Candidate | None:
        eligible = [c for c in candidates if counter.can_serve(c.band, c.procedure)]
        if not eligible:
            return None
        return min(eligible, key=lambda c: (c.queued_at, c.number, c.ticket_id))


@dataclass(frozen=True)
class VisitFifoPolicy:
    """One ticket, first come first served across bands: the earliest visit start a counter can serve.

    A continuing visit keeps its place (its key is the visit's start, as under ``BalancedPolicy``);
    no band targets, no aging, no priority credit. The simulation's rung between today's queues per
    department and the balancing policy (docs/simulation.md).
    """

    def queue_key(self, candidate: Candidate) -> tuple[dt.datetime, bool, int, str]:
        return candidate.issued_at, not candidate.continuing, candidate.number, candidate.ticket_id

    def choose(self, counter: Server, candidates: Iterable[Candidate], now: dt.datetime,
               last_called: Mapping[str, dt.datetime] | None = None) -> Candidate | None:
        eligible = [c for c in candidates if counter.can_serve(c.band, c.procedure)]
        if not eligible:
            return None
        return min(eligible, key=self.queue_key)
