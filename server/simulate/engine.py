"""Discrete-event replay of office days, driving the real ``Office`` with a simulated clock.

Residents arrive, answer the kiosk (or write forms by hand), take a ticket, wait, walk to the
counter they are called to, are served step by step and leave. Counters call through the real
core (``Office.call_next`` with the real policy), estimates come from the real estimator, the
floor guide acts on the real suggestions. Only time is simulated.

The arms are the rungs of a ladder, each adding one change to the one before, on the same
residents (docs/simulation.md):
- ``today``: a ticket per department (the resident walks to the next department and queues
  again), forms by hand, their input at 区民課 reception, each counter fixed to its own department
  and band, first come first served per queue.
- ``kakanai`` (書かない窓口): the same routing and queues; the kiosk's answers and the card replace
  the forms (a resident without a card still has the four items typed at reception).
- ``fifo``: one ticket for the whole visit on the site's counters (a one-stop counter continues
  the next step), first come first served by visit start across bands.
- ``balanced``: the balancing policy on the same counters.
- ``guided``: the balancing policy and the floor guide accepting the suggestions (the project).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from madoguchi.server.core.catalog import Catalog
from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.estimator import Estimate
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.office import Office
from madoguchi.server.core.policy import BalancedPolicy, Policy, StaticFifoPolicy, VisitFifoPolicy
from madoguchi.server.core.site import SiteRules
from madoguchi.server.core.ticket import Outcome, Ticket, TicketStatus
from madoguchi.server.simulate.baselines import Baselines, QueueKey
from madoguchi.server.simulate.population import Visit
from madoguchi.server.simulate.scenario import Scenario
from madoguchi.server.simulate.staffing import StaffPlan, staff_plan

PolicyName = Literal["today", "kakanai", "fifo", "balanced", "guided"]
LADDER: tuple[PolicyName, ...] = ("today", "kakanai", "fifo", "balanced", "guided")
POLICIES: tuple[PolicyName, ...] = ("guided", "today")  # the project against today's office
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Arm:
    """One rung of the ladder: what the office does differently from the rung before."""

    label: str
    forms_by_hand: bool
    one_ticket: bool
    policy: Literal["per_queue", "visit_fifo", "balanced"]
    guide: bool


ARMS: dict[PolicyName, Arm] = {
    "today": Arm("today's office (forms by hand, a queue per department)", True, False, "per_queue", False),
    "kakanai": Arm("書かない (no forms, same queues)", False, False, "per_queue", False),
    "fifo": Arm("one ticket, first come first served", False, True, "visit_fifo", False),
    "balanced": Arm("balancing policy", False, True, "balanced", False),
    "guided": Arm("balancing policy + floor guide", False, True, "balanced", True),
}


class SequentialIds:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def ticket_id(self) -> str:
        return f"s{next(self._n)}"

    def token(self) -> str:
        return f"k{next(self._n)}"


@dataclass
class VisitRecord:
    """One resident's day at the office, split into where the time went."""

    visit: Visit
    outcome: str = "open"  # done, no_show or open (still there at close)
    end_min: float | None = None  # when the visit ended; for an open one, the close (a censored stay)
    forms_min: float = 0.0  # kiosk (balanced) or writing forms by hand (static)
    wait_min: float = 0.0
    walk_min: float = 0.0  # to the counter after a call, and between departments
    handling_min: float = 0.0
    tickets: int = 0

    @property
    def stay_min(self) -> float | None:
        return None if self.end_min is None else self.end_min - self.visit.arrival_min


@dataclass
class TicketRecord:
    """One ticket: when issued, when first called, and what each predictor said at issue."""

    band: str
    queue: QueueKey
    issued_min: float
    life_event: str | None
    called_min: float | None = None
    closed_min: float | None = None  # the close, for a ticket never called
    visit_id: int = -1
    estimate: Estimate | None = None
    baselines: dict[str, float] = field(default_factory=dict)

    @property
    def wait_min(self) -> float | None:
        return None if self.called_min is None else self.called_min - self.issued_min

    @property
    def observed_wait_min(self) -> float | None:
        """The wait until the call, or, never called, until the close (a lower bound: censored)."""
        if self.called_min is not None:
            return self.called_min - self.issued_min
        return None if self.closed_min is None else self.closed_min - self.issued_min


@dataclass(frozen=True)
class GuideMove:
    """A floor-guide suggestion accepted: the counter, its bands, and the new-arrival estimates
    (minutes) it predicted, before and after the move, for the band it joins and the one it leaves."""

    at_min: float
    counter: str
    from_band: str
    to_band: str
    returning: bool
    to_before: float
    to_after: float
    from_before: float
    from_after: float


@dataclass
class DayResult:
    date: dt.date
    visits: list[VisitRecord]
    tickets: list[TicketRecord]
    moves: list[GuideMove] = field(default_factory=list)


@dataclass
class _Active:
    record: VisitRecord
    segment: int = 0
    ticket: TicketRecord | None = None
    queued_since: float = 0.0
    called_at: float = 0.0
    step_started: float = 0.0
    last_department: str | None = None
    called_before: bool = False
    ticket_counter: str | None = None  # the counter the visit was last called to


def static_rules(site: SiteRules, catalog: Catalog, one_ticket: bool = False) -> SiteRules:
    """Each counter serves only its own department's procedures of its band (today's layout).

    With ``one_ticket`` (the balanced policy's ``department_counters`` layout) a counter of a band
    also serves its department's steps of that band's life events wherever the catalog files them
    (the 転出届 of a 転出 visit is a simple-band procedure, done at the one-stop counter).
    """
    counters = []
    for spec in site.counters:
        own = {p.id for p in catalog.procedures.values()
               if p.department == spec.department and (p.band in spec.skills or p.id in spec.skills)}
        whole_bands = [b for b in spec.skills if b in {band.id for band in site.bands}
                       and all(p.department == spec.department for p in catalog.procedures.values() if p.band == b)]
        if one_ticket and whole_bands == list(spec.skills):
            counters.append(spec)  # its bands are its department's alone: nothing to split
            continue
        if one_ticket:
            for event in catalog.life_events.values():
                if event.band in spec.skills:
                    steps = {*event.always, *(rule.procedure for rule in event.rules)}
                    own |= {p for p in steps if catalog.procedures[p].department == spec.department}
        skills = tuple(p for p in catalog.procedures if p in own)
        counters.append(dataclasses.replace(spec, skills=skills))
    return dataclasses.replace(site, counters=tuple(counters))


class Simulator:
    """One policy on one site over consecutive days (the office, and what it learns, carries over)."""

    def __init__(self, site: SiteRules, catalog: Catalog, scenario: Scenario, policy: PolicyName, *,
                 measure_estimates: bool = True, guide: bool = True) -> None:
        self.scenario = scenario
        self.policy_name = policy
        self.arm = ARMS[policy]
        self.catalog = catalog
        if not self.arm.one_ticket:
            self.rules = static_rules(site, catalog)
        elif scenario.balanced.layout == "department_counters":
            self.rules = static_rules(site, catalog, one_ticket=True)
        else:
            self.rules = site
        bands = {b.id: b for b in site.bands}
        chosen: Policy
        if self.arm.policy == "per_queue":
            chosen = StaticFifoPolicy()
        elif self.arm.policy == "visit_fifo":
            chosen = VisitFifoPolicy()
        else:
            chosen = BalancedPolicy.for_site(bands, site.policy)
        self.office = Office(self.rules, catalog, SequentialIds(), policy=chosen, enforce_hours=False)
        self.measure_estimates = measure_estimates
        self.guide = guide and self.arm.guide
        priors = [p.handling_min for p in catalog.procedures.values()]
        self.baselines = Baselines(prior_occupancy_min=sum(priors) / max(len(priors), 1))
        self.counter_order = [c.id for c in self.rules.counters]
        self.extra_breaks: list[tuple[str, float, float, str]] = []  # (counter, from, to, reason) every day
        self._breadths: dict[frozenset[str], int] = {}
        self.skills = {c.id: frozenset(c.skills) for c in self.rules.counters}

    # ----- a day

    def run_day(self, visits: list[Visit], date: dt.date, seed: int, day_index: int) -> DayResult:
        self.midnight = dt.datetime.combine(date, dt.time(0), tzinfo=TOKYO)
        self.heap: list[tuple[float, int, Callable[[object], None], object]] = []
        self.seq = itertools.count()
        self.active: dict[str, _Active] = {}  # ticket id → visit in progress
        self.at_counter: dict[str, _Active] = {}
        self.down: dict[str, set[str]] = {cid: set() for cid in self.counter_order}
        self.wake_all, self.woken = True, set[str]()
        self.records = [VisitRecord(v) for v in visits]
        self.ticket_records: list[TicketRecord] = []
        self.moves: list[GuideMove] = []
        self.t = 0.0
        self.now = self.midnight
        staff_rng = random.Random(f"{self.scenario.name}:{seed}:{day_index}:staff")
        self._open_day(staff_plan(self.scenario, self.rules, staff_rng))
        for record in self.records:
            self._at(record.visit.arrival_min, self._arrive, record)
        close = self.scenario.serve_until.hour * 60 + self.scenario.serve_until.minute
        while self.heap and self.heap[0][0] <= close:
            t, _, handler, arg = heapq.heappop(self.heap)
            self.t, self.now = t, self.midnight + dt.timedelta(minutes=t)
            handler(arg)
            self._dispatch()
        self.t, self.now = float(close), self.midnight + dt.timedelta(minutes=close)
        self._censor(float(close))
        self.office.end_day(self.now)
        self.office.take_changes()
        return DayResult(date, self.records, self.ticket_records, self.moves)

    def _censor(self, close: float) -> None:
        """Whoever is still there at close: their stay and their current wait end at the close."""
        waiting = {t.id for t in self.office.waiting()}
        for ticket_id, active in self.active.items():
            if ticket_id in waiting:
                active.record.wait_min += close - active.queued_since
        for record in self.records:
            if record.outcome == "open":
                record.end_min = close
        for ticket in self.ticket_records:
            if ticket.called_min is None:
                ticket.closed_min = close

    def _at(self, t: float, handler: Callable[[object], None], arg: object = None) -> None:
        heapq.heappush(self.heap, (t, next(self.seq), handler, arg))

    def _open_day(self, plan: StaffPlan) -> None:
        self.office.roll_day(self.midnight + dt.timedelta(hours=6))
        for cid in self.counter_order:
            state = CounterState.CLOSED if cid in plan.closed else CounterState.OPEN
            self.office.update_counter(cid, self.now, state=state, skills=self.skills[cid])
        for cid, start, end, reason in (*plan.breaks, *self.extra_breaks):
            self._at(start, self._counter_down, (cid, reason))
            self._at(end, self._counter_up, (cid, reason))
        if self.guide:
            every = self.scenario.balanced.guide_every_min
            opens = self.rules.opens_at.hour * 60 + self.rules.opens_at.minute
            closes = self.rules.closes_at.hour * 60 + self.rules.closes_at.minute
            t = opens + every
            while t < closes:
                self._at(t, self._guide)
                t += every
        self.office.take_changes()

    # ----- residents

    def _arrive(self, arg: object) -> None:
        assert isinstance(arg, VisitRecord)
        active = _Active(arg)
        first = arg.visit.segments[0].forms_min if self.arm.forms_by_hand else arg.visit.kiosk_min
        arg.forms_min += first
        self._at(self.t + first, self._issue, active)

    def _request(self, active: _Active) -> IssueRequest:
        visit = active.record.visit
        if self.arm.one_ticket:
            return visit.request
        segment = visit.segments[active.segment]
        return IssueRequest(procedures=segment.procedures, priority=visit.request.priority)

    def _issue(self, arg: object) -> None:
        assert isinstance(arg, _Active)
        active = arg
        ticket = self.office.issue(self._request(active), self.now)
        self.wake_all = True
        active.record.tickets += 1
        active.queued_since = self.t
        active.last_department = None
        self.active[ticket.id] = active
        queue = self._queue(ticket)
        active.ticket = TicketRecord(ticket.band, queue, self.t, active.record.visit.life_event,
                                     visit_id=active.record.visit.id)
        self.ticket_records.append(active.ticket)
        if self.measure_estimates:
            self._predict(ticket, active.ticket)

    def _queue(self, ticket: Ticket) -> QueueKey:
        return tuple(cid for cid in self.counter_order
                     if self.office.counters[cid].can_serve(ticket.band, ticket.procedure))

    def _predict(self, ticket: Ticket, record: TicketRecord) -> None:
        record.estimate = self.office.estimate(ticket, self.now)
        servers = [self.office.counters[cid] for cid in record.queue]
        open_servers = [c for c in servers if c.state is CounterState.OPEN]
        free = sum(1 for c in open_servers if c.ticket_id is None)
        mine = self.office.policy_key(self.office.candidate(ticket))
        ahead = sum(1 for other in self.office.waiting()
                    if other.id != ticket.id and any(c.can_serve(other.band, other.procedure) for c in servers)
                    and self.office.policy_key(self.office.candidate(other)) < mine)
        record.baselines = self.baselines.predict(record.queue, ahead, len(open_servers), free, ticket.band, self.t)

    # ----- counters

    def _dispatch(self) -> None:
        """Free open counters call: all of them after a new visit waits, else only those just freed.

        A counter that found nobody stays idle until something it could serve starts waiting, so
        polling only these is the same as polling every counter after every event, and cheaper.
        """
        if self.wake_all:
            candidates: list[str] | set[str] = self.counter_order
        elif self.woken:
            candidates = self.woken
        else:
            return
        self.wake_all, self.woken = False, set()
        if not self.office.waiting():
            return
        ordered = [c for c in self.counter_order if c in candidates] if isinstance(candidates, set) else candidates
        for cid in sorted(ordered, key=self._breadth):
            counter = self.office.counters[cid]
            if counter.state is not CounterState.OPEN or counter.ticket_id is not None:
                continue
            ticket = self.office.call_next(cid, self.now)
            if ticket is not None:
                self._called(cid, ticket)

    def _breadth(self, cid: str) -> int:
        """How many procedures a counter serves: of counters free at once, the narrowest calls first
        (a department counter takes the department's step before a one-stop counter can; the same
        order in every arm, and in reality the resident is sent to the department's counter)."""
        skills = self.office.counters[cid].skills
        found = self._breadths.get(skills)
        if found is None:
            found = self._breadths[skills] = sum(
                1 for p in self.catalog.procedures.values() if p.band in skills or p.id in skills)
        return found

    def _called(self, cid: str, ticket: Ticket) -> None:
        active = self.active[ticket.id]
        active.record.wait_min += self.t - active.queued_since
        active.called_at = self.t
        active.ticket_counter = cid
        self.at_counter[cid] = active
        assert active.ticket is not None
        if active.ticket.called_min is None:
            active.ticket.called_min = self.t
            self.baselines.on_call(active.ticket.queue, self.t - active.ticket.issued_min, active.ticket.band, self.t)
        if active.record.visit.no_show and not active.called_before:
            self._at(self.t + self.scenario.resident.recall_wait_min, self._no_show, cid)
        else:
            self._at(self.t + self.scenario.resident.walk_to_counter_min, self._start, cid)
        active.called_before = True

    def _no_show(self, arg: object) -> None:
        cid = str(arg)
        active = self.at_counter.pop(cid)
        self.office.no_show(cid, self.now)
        self._release(active)
        active.record.outcome, active.record.end_min = "no_show", self.t

    def _start(self, arg: object) -> None:
        cid = str(arg)
        active = self.at_counter[cid]
        active.record.walk_min += self.t - active.called_at
        ticket = self.office.start(cid, self.now)
        self._serve_step(cid, active, ticket, first_of_ticket=True)

    def _serve_step(self, cid: str, active: _Active, ticket: Ticket, first_of_ticket: bool) -> None:
        visit = active.record.visit
        procedure = ticket.procedure
        duration = visit.handling_min[procedure]
        department = self.catalog.procedures[procedure].department
        if (first_of_ticket and visit.life_event is not None and active.segment == 0
                and procedure == visit.plan[0] and (self.arm.forms_by_hand or not visit.has_card)):
            # reception at 区民課 types the handwritten form, or the four items of a resident without a card
            duration += self.scenario.static.extra_input_min
        if (self.arm.one_ticket and active.last_department is not None
                and active.last_department != department):
            duration += self.scenario.balanced.handover_min
        active.last_department = department
        active.step_started = self.t
        self._at(self.t + duration, self._finish, cid)

    def _finish(self, arg: object) -> None:
        cid = str(arg)
        active = self.at_counter[cid]
        active.record.handling_min += self.t - active.step_started
        ticket = self.office.finish(cid, Outcome.DONE, self.now)
        if ticket.status is TicketStatus.SERVING:  # the next step continues at this counter
            self._serve_step(cid, active, ticket, first_of_ticket=False)
            return
        del self.at_counter[cid]
        self._release(active)
        if ticket.status is TicketStatus.CALLED:  # handed on: a free counter calls the next step at once
            assert ticket.counter_id is not None
            active.queued_since = self.t
            active.last_department = None
            self._called(ticket.counter_id, ticket)
            return
        if ticket.status is TicketStatus.WAITING:  # needs another counter: waits again, keeping its place
            self.wake_all = True
            active.queued_since = self.t
            active.last_department = None
            return
        del self.active[ticket.id]
        visit = active.record.visit
        if not self.arm.one_ticket and active.segment + 1 < len(visit.segments):
            active.segment += 1
            segment = visit.segments[active.segment]
            walk = 0.0 if segment.same_department else self.scenario.static.walk_between_departments_min
            forms = segment.forms_min if self.arm.forms_by_hand else 0.0
            active.record.walk_min += walk
            active.record.forms_min += forms
            self._at(self.t + walk + forms, self._issue, active)
            return
        active.record.outcome, active.record.end_min = "done", self.t

    def _release(self, active: _Active) -> None:
        assert active.ticket is not None
        if active.ticket_counter is not None:
            self.woken.add(active.ticket_counter)
        self.baselines.on_release(active.ticket.queue, self.t - active.called_at)

    def _counter_down(self, arg: object) -> None:
        cid, reason = arg  # type: ignore[misc]
        self.down[cid].add(reason)
        if self.office.counters[cid].state is CounterState.OPEN:
            self.office.update_counter(cid, self.now, state=CounterState.PAUSED)

    def _counter_up(self, arg: object) -> None:
        cid, reason = arg  # type: ignore[misc]
        self.down[cid].discard(reason)
        if not self.down[cid] and self.office.counters[cid].state is CounterState.PAUSED:
            self.office.update_counter(cid, self.now, state=CounterState.OPEN)
            self.woken.add(cid)

    def _guide(self, _: object) -> None:
        """The floor guide looks at the suggestions and accepts the first one."""
        suggestions = self.office.suggestions(self.now)
        if suggestions and self.scenario.balanced.guide_accepts:
            chosen = suggestions[0]
            self.office.accept_suggestion(chosen.id, self.now)
            self.moves.append(GuideMove(
                self.t, chosen.counter_id, chosen.from_band, chosen.to_band, chosen.returning,
                chosen.before[chosen.to_band].minutes, chosen.after[chosen.to_band].minutes,
                chosen.before[chosen.from_band].minutes, chosen.after[chosen.from_band].minutes))
            self.wake_all = True
        self.office.take_changes()
