"""The office of one site on one service day: the aggregate every command goes through.

All state changes happen here, each one recorded as an event in the outbox. The storage adapter
takes the changes after each command and commits them in one transaction before anyone is
answered. Time is always passed in (``now``, aware, in the site's time zone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from . import estimates, issuing
from .catalog import Band, Catalog
from .counter import Counter, CounterState
from .errors import conflict, invalid, not_found
from .estimator import Estimate
from .events import Event, EventKind
from .handling import CounterBreaks, HandlingTimes
from .issuing import IssueRequest
from .policy import BalancedPolicy, Candidate, Policy
from .site import SiteRules
from .suggestions import Suggestion, suggest
from .ticket import AT_COUNTER, Outcome, Priority, Step, StepState, Ticket, TicketStatus
from .waiting_index import WaitingIndex


class IdSource(Protocol):
    def ticket_id(self) -> str: ...

    def token(self) -> str: ...


@dataclass
class Changes:
    events: list[Event]
    tickets: list[Ticket]
    counters: list[Counter]
    last_numbers: dict[str, int]
    day: dt.date | None


class Office:
    def __init__(self, site: SiteRules, catalog: Catalog, ids: IdSource, *, policy: Policy | None = None,
                 handling: HandlingTimes | None = None, enforce_hours: bool = True) -> None:
        self.site = site
        self.catalog = catalog
        self.ids = ids
        self.bands: dict[str, Band] = {b.id: b for b in site.bands}
        self.policy: Policy = policy or BalancedPolicy.for_site(self.bands, site.policy)
        self.handling = handling or HandlingTimes({p.id: p.handling_min for p in catalog.procedures.values()})
        self.enforce_hours = enforce_hours
        self.breaks = CounterBreaks()  # learned from counter state changes, for the estimate
        self.counters: dict[str, Counter] = {
            c.id: Counter(c.id, c.label, c.department, frozenset(c.skills), c.initial_state)
            for c in site.counters
        }
        self.tickets: dict[str, Ticket] = {}
        self.day: dt.date | None = None
        self.last_number: dict[str, int] = {}
        self.version = 0
        self._waiting: dict[str, Ticket] = {}
        self._queue = WaitingIndex(self.policy_key)
        self._open_numbers: dict[str, set[int]] = {b: set() for b in self.bands}
        self._outbox: list[Event] = []
        self._touched_tickets: dict[str, Ticket] = {}  # kept even if the ticket leaves self.tickets
        self._touched_counters: set[str] = set()
        self._numbers_touched = False
        self._estimates: estimates.Estimates | None = None
        self.last_called: dict[str, str] = {}  # display number of each band's latest call
        self.band_last_called: dict[str, dt.datetime] = {}  # time of each band's latest call
        self._suggested: set[str] = set()

    # ----- restore and changes (for the storage adapter)

    def restore(self, day: dt.date | None, tickets: Iterable[Ticket], counters: Iterable[Counter],
                last_numbers: Mapping[str, int]) -> None:
        self.day = day
        self.last_number = dict(last_numbers)
        for counter in counters:
            if counter.id in self.counters:
                self.counters[counter.id] = counter
        for ticket in sorted(tickets, key=lambda t: t.called_at or t.issued_at):
            self.tickets[ticket.id] = ticket
            self._index_ticket(ticket)
            if ticket.called_at is not None:
                self.last_called[ticket.band] = ticket.display_number
                self.band_last_called[ticket.band] = ticket.called_at
        self._touched_tickets.clear()

    def take_changes(self) -> Changes:
        changes = Changes(
            events=self._outbox,
            tickets=list(self._touched_tickets.values()),
            counters=[self.counters[c] for c in self._touched_counters],
            last_numbers=dict(self.last_number) if self._numbers_touched else {},
            day=self.day,
        )
        self._outbox, self._touched_tickets, self._touched_counters = [], {}, set()
        self._numbers_touched = False
        return changes

    # ----- queries

    def ticket(self, ticket_id: str) -> Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise not_found("ticket_not_found", ticket=ticket_id)
        return ticket

    def counter(self, counter_id: str) -> Counter:
        counter = self.counters.get(counter_id)
        if counter is None:
            raise not_found("counter_not_found", counter=counter_id)
        return counter

    def waiting(self) -> list[Ticket]:
        return list(self._waiting.values())

    def candidate(self, ticket: Ticket) -> Candidate:
        return Candidate(ticket.id, ticket.band, ticket.procedure, ticket.issued_at,
                         ticket.queued_at or ticket.issued_at, bool(ticket.priority), ticket.continuing,
                         ticket.number, ticket.sent_to)

    def candidates(self) -> list[Candidate]:
        return list(self._queue.candidates())

    def policy_key(self, candidate: Candidate) -> tuple[object, ...]:
        """The policy's order within a band (visit start, priority credit); arrival order otherwise."""
        key = getattr(self.policy, "queue_key", None)
        return tuple(key(candidate)) if key else (candidate.queued_at, True, candidate.number, candidate.ticket_id)

    def position(self, ticket: Ticket) -> int:
        """1 for the next of its band, 0 when no longer waiting."""
        if ticket.status is not TicketStatus.WAITING:
            return 0
        return self._queue.ahead(ticket.id) + 1

    def ahead_since(self, ticket: Ticket, since: dt.datetime) -> int:
        """Waiting visits of its band ahead of ``ticket`` whose place dates from ``since`` or later."""
        return self._queue.ahead(ticket.id, since) if ticket.status is TicketStatus.WAITING else 0

    def estimates(self, now: dt.datetime) -> estimates.Estimates:
        """Current estimates, recomputed when stale (see estimates.REFRESH_AFTER_S)."""
        cached = self._estimates
        if cached is not None:
            age_s = (now - cached.computed_at).total_seconds()
            fresh = cached.version == self.version or age_s < estimates.REFRESH_AFTER_S
            if fresh and 0 <= age_s < estimates.STALE_AFTER_S:
                return cached
        self._estimates = estimates.compute(self, now)
        return self._estimates

    def estimate(self, ticket: Ticket, now: dt.datetime) -> Estimate:
        return estimates.for_ticket(self, self.estimates(now), ticket, now)

    def ticket_at(self, counter: Counter) -> Ticket | None:
        return self.tickets.get(counter.ticket_id) if counter.ticket_id else None

    # ----- issuing

    def issue(self, request: IssueRequest, now: dt.datetime) -> Ticket:
        self.roll_day(now)
        if self.enforce_hours:
            issuing.check_reception(self.site, now)
        band, plan = issuing.plan(self.catalog, self.bands, request, now.date())
        number = self._next_number(band)
        ticket = Ticket(
            id=self.ids.ticket_id(), token=self.ids.token(), site=self.site.id, service_day=now.date(),
            band=band.id, number=number, display_number=band.display_number(number),
            language=request.language, life_event=request.life_event,
            steps=[Step(p) for p in plan], issued_at=now, priority=request.priority,
            status=TicketStatus.WAITING, queued_at=now, has_card=request.has_card, manual=request.manual,
        )
        self.tickets[ticket.id] = ticket
        self._index_ticket(ticket)
        self._emit(EventKind.ISSUED, now, ticket, data={
            "life_event": request.life_event, "procedures": plan, "language": request.language,
            "priority": sorted(request.priority), "manual": request.manual,
        })
        return ticket

    def _next_number(self, band: Band) -> int:
        number = issuing.next_number(band, self.last_number.get(band.id), self._open_numbers[band.id])
        self.last_number[band.id] = number
        self._numbers_touched = True
        return number

    # ----- at the counter

    def call_next(self, counter_id: str, now: dt.datetime) -> Ticket | None:
        """Call whom the policy chooses for this counter; None when nobody waits for its skills."""
        counter = self._free_open_counter(counter_id)
        heads = self._queue.heads()
        sent_here = [h for h in heads if h.sent_to == counter.id and counter.can_serve(h.band, h.procedure)]
        if sent_here:  # a colleague sent these here: they come first, in the order they were sent
            chosen: Candidate | None = min(sent_here, key=lambda h: (h.queued_at, h.number))
        else:
            chosen = self.policy.choose(counter, [h for h in heads if h.sent_to is None], now,
                                        self.band_last_called)
        if chosen is None:
            return None
        ticket = self.tickets[chosen.ticket_id]
        self._call(ticket, counter, now, {})
        return ticket

    def call(self, counter_id: str, ticket_id: str, reason: str, now: dt.datetime) -> Ticket:
        """Call a given visit out of order (or back from hold); the reason is logged."""
        if not reason.strip():
            raise invalid("reason_required")
        counter = self._free_open_counter(counter_id)
        ticket = self._open_ticket(ticket_id)
        if ticket.status not in (TicketStatus.WAITING, TicketStatus.HELD):
            raise conflict("ticket_not_waiting", ticket=ticket.display_number, status=ticket.status.value)
        if not counter.can_serve(ticket.band, ticket.procedure):
            raise conflict("counter_lacks_skill", counter=counter.id, procedure=ticket.procedure)
        self._call(ticket, counter, now, {"out_of_order": True, "reason": reason.strip()})
        return ticket

    def recall(self, counter_id: str, now: dt.datetime) -> Ticket:
        counter, ticket = self._at_counter(counter_id, TicketStatus.CALLED)
        ticket.recalls += 1
        ticket.called_at = now
        self._touched_tickets[ticket.id] = ticket
        self._emit(EventKind.RECALLED, now, ticket, counter, {"recalls": ticket.recalls})
        return ticket

    def start(self, counter_id: str, now: dt.datetime) -> Ticket:
        counter, ticket = self._at_counter(counter_id, TicketStatus.CALLED)
        self._start_step(ticket, counter, now)
        self._set_status(ticket, TicketStatus.SERVING)
        self._emit(EventKind.STARTED, now, ticket, counter)
        return ticket

    def finish(self, counter_id: str, outcome: Outcome, now: dt.datetime, next_procedure: str | None = None,
               to_counter: str | None = None) -> Ticket:
        """Finish the current step; continue here, wait for the next counter, or end the visit.

        ``next_procedure`` makes that procedure the visit's next step (moved up from later in the plan,
        or added to it); ``to_counter`` sends the next step to that counter: it is called there now when
        the counter is free, or waits for that counter only (it calls it before anyone else).
        """
        counter, ticket = self._at_counter(counter_id, TicketStatus.SERVING)
        target = self._send_on_target(ticket, next_procedure, to_counter)
        step = ticket.step
        step.state = StepState(outcome.value)
        step.finished_at = now
        if step.started_at is not None:
            minutes = (now - step.started_at).total_seconds() / 60
            self.handling.observe(step.procedure, step.started_at.hour, minutes)
        self._emit(EventKind.STEP_FINISHED, now, ticket, counter, {"outcome": outcome.value})
        if next_procedure is not None:
            _make_next(ticket, next_procedure)
        following = ticket.next_step_index()
        if following is None:
            counter.ticket_id = None
            self._close(ticket, TicketStatus.DONE, now)
            self._emit(EventKind.FINISHED, now, ticket, counter)
            return ticket
        ticket.current = following
        if target is not None and target is not counter:
            return self._send_to(ticket, counter, target, now)
        could_continue = counter.state is CounterState.OPEN and counter.can_serve(ticket.band, ticket.procedure)
        if target is counter and not could_continue:
            raise conflict("counter_lacks_skill", counter=counter.id, procedure=ticket.procedure)
        helper = self._hand_on_to(counter, ticket) if could_continue and target is None else None
        if could_continue and helper is None:
            # the one-stop counter: the resident stays seated, the next department serves here
            self._emit(EventKind.TRANSFERRED, now, ticket, counter, {"same_counter": True})
            self._start_step(ticket, counter, now)
            self._emit(EventKind.STARTED, now, ticket, counter)
            return ticket
        counter.ticket_id = None
        ticket.counter_id = None
        ticket.queued_at = now
        self._set_status(ticket, TicketStatus.WAITING)
        self._emit(EventKind.TRANSFERRED, now, ticket, counter, {"same_counter": False})
        if helper is not None:  # the policy handed the next step to a free counter: it calls the visit now
            self._call(ticket, helper, now, {"handed_on_by": counter.id})
        return ticket

    def _send_on_target(self, ticket: Ticket, next_procedure: str | None, to_counter: str | None) -> Counter | None:
        """Check a send-on before anything changes: the procedure exists, there is a next step to send,
        and the chosen counter is open or away and can serve that step."""
        if next_procedure is not None and next_procedure not in self.catalog.procedures:
            raise invalid("unknown_procedure", procedure=next_procedure,
                          procedures=sorted(self.catalog.procedures))
        if to_counter is None:
            return None
        target = self.counter(to_counter)
        following = next_procedure
        if following is None:
            index = ticket.next_step_index()
            if index is None:
                raise conflict("nothing_to_send_on", ticket=ticket.display_number)
            following = ticket.steps[index].procedure
        if target.state is CounterState.CLOSED:
            raise conflict("counter_not_open", counter=target.id, state=target.state.value)
        if not target.can_serve(ticket.band, following):
            raise conflict("counter_lacks_skill", counter=target.id, procedure=following)
        return target

    def _send_to(self, ticket: Ticket, counter: Counter, target: Counter, now: dt.datetime) -> Ticket:
        """The next step goes to ``target``: called there now when it is free, else it waits for it only."""
        counter.ticket_id = None
        ticket.counter_id = None
        ticket.queued_at = now
        ticket.sent_to = target.id
        self._set_status(ticket, TicketStatus.WAITING)
        self._emit(EventKind.TRANSFERRED, now, ticket, counter, {"same_counter": False, "sent_to": target.id})
        if target.state is CounterState.OPEN and target.ticket_id is None:
            self._call(ticket, target, now, {"sent_by": counter.id})
        return ticket

    def _hand_on_to(self, counter: Counter, ticket: Ticket) -> Counter | None:
        """The free counter the policy hands the visit's next step to, if it does (``HandsOn``)."""
        hand_on = getattr(self.policy, "hand_on", None)
        if hand_on is None:
            return None
        following = self.candidate(ticket)
        free = [c for c in self.counters.values() if c is not counter and c.state is CounterState.OPEN
                and c.ticket_id is None and c.can_serve(following.band, following.procedure)]
        if not free or not hand_on(counter, following, free, self._queue.heads()):
            return None
        return free[0]

    def no_show(self, counter_id: str, now: dt.datetime) -> Ticket:
        counter, ticket = self._at_counter(counter_id, TicketStatus.CALLED)
        counter.ticket_id = None
        self._emit(EventKind.NO_SHOW, now, ticket, counter)
        self._close(ticket, TicketStatus.NO_SHOW, now)
        return ticket

    def hold(self, counter_id: str, now: dt.datetime) -> Ticket:
        """Put the visit aside (documents to fetch…); it is called back later with ``call``."""
        counter, ticket = self._at_counter(counter_id, TicketStatus.CALLED, TicketStatus.SERVING)
        counter.ticket_id = None
        ticket.step.state = StepState.TODO
        ticket.step.started_at = None
        self._emit(EventKind.HELD, now, ticket, counter)
        ticket.counter_id = None
        self._set_status(ticket, TicketStatus.HELD)
        return ticket

    def _free_open_counter(self, counter_id: str) -> Counter:
        counter = self.counter(counter_id)
        if counter.state is not CounterState.OPEN:
            raise conflict("counter_not_open", counter=counter.id, state=counter.state.value)
        current = self.ticket_at(counter)
        if current is not None:
            raise conflict("counter_busy", counter=counter.id, ticket=current.display_number,
                           status=current.status.value)
        return counter

    def _at_counter(self, counter_id: str, *allowed: TicketStatus) -> tuple[Counter, Ticket]:
        counter = self.counter(counter_id)
        ticket = self.ticket_at(counter)
        if ticket is None:
            raise conflict("counter_has_no_ticket", counter=counter.id)
        if ticket.status not in allowed:
            raise conflict("ticket_wrong_state", ticket=ticket.display_number, status=ticket.status.value,
                           expected=[s.value for s in allowed])
        return counter, ticket

    def _call(self, ticket: Ticket, counter: Counter, now: dt.datetime, data: dict[str, object]) -> None:
        ticket.sent_to = None
        ticket.counter_id = counter.id
        ticket.called_at = now
        ticket.first_called_at = ticket.first_called_at or now
        ticket.step.counter_id = counter.id
        counter.ticket_id = ticket.id
        self._set_status(ticket, TicketStatus.CALLED)
        self.last_called[ticket.band] = ticket.display_number
        self.band_last_called[ticket.band] = now
        self._emit(EventKind.CALLED, now, ticket, counter, data)

    def _start_step(self, ticket: Ticket, counter: Counter, now: dt.datetime) -> None:
        ticket.step.state = StepState.ACTIVE
        ticket.step.started_at = now
        ticket.step.counter_id = counter.id
        ticket.counter_id = counter.id
        counter.ticket_id = ticket.id
        self._touched_tickets[ticket.id] = ticket

    # ----- floor guide

    def update_counter(self, counter_id: str, now: dt.datetime, state: CounterState | None = None,
                       skills: Iterable[str] | None = None) -> Counter:
        counter = self.counter(counter_id)
        if skills is not None:
            new_skills = frozenset(skills)
            unknown = sorted(s for s in new_skills if s not in self.bands and s not in self.catalog.procedures)
            if unknown:
                raise invalid("unknown_skill", skills=unknown)
            if new_skills != counter.skills:
                counter.skills = new_skills
                self._emit(EventKind.COUNTER_SKILLS_CHANGED, now, counter=counter,
                           data={"skills": sorted(new_skills)})
        if state is not None and state is not counter.state:
            if state is CounterState.CLOSED and counter.ticket_id is not None:
                raise conflict("counter_busy_cannot_close", counter=counter.id)
            counter.state = state
            if state is CounterState.CLOSED:
                self._release_sent_to(counter)
            self.breaks.observe(counter.id, state is not CounterState.OPEN, now)
            kind = {CounterState.OPEN: EventKind.COUNTER_OPENED, CounterState.PAUSED: EventKind.COUNTER_PAUSED,
                    CounterState.CLOSED: EventKind.COUNTER_CLOSED}[state]
            self._emit(kind, now, counter=counter)
        self._touched_counters.add(counter.id)
        return counter

    def _release_sent_to(self, counter: Counter) -> None:
        """A closed counter calls nobody: the visits sent to it go back to everyone's queue."""
        for ticket in [t for t in self._waiting.values() if t.sent_to == counter.id]:
            ticket.sent_to = None
            self._index_ticket(ticket)

    def set_priority(self, ticket_id: str, priority: frozenset[Priority], now: dt.datetime) -> Ticket:
        ticket = self._open_ticket(ticket_id)
        if priority != ticket.priority:
            ticket.priority = priority
            self._index_ticket(ticket)
            self._emit(EventKind.PRIORITY_CHANGED, now, ticket, data={"priority": sorted(priority)})
        return ticket

    def suggestions(self, now: dt.datetime) -> list[Suggestion]:
        """Counter moves that would help a band behind its target; each logged once when first made."""
        found = suggest(self, now)
        for suggestion in found:
            if suggestion.id not in self._suggested:
                self._suggested.add(suggestion.id)
                self._emit(EventKind.SUGGESTION_MADE, now, data=_suggestion_data(suggestion))
        return found

    def accept_suggestion(self, suggestion_id: str, now: dt.datetime) -> Counter:
        suggestion = next((s for s in suggest(self, now) if s.id == suggestion_id), None)
        if suggestion is None:
            raise not_found("suggestion_gone", suggestion=suggestion_id)
        self._emit(EventKind.SUGGESTION_ACCEPTED, now, data=_suggestion_data(suggestion))
        return self.update_counter(suggestion.counter_id, now, skills=suggestion.new_skills)

    def dismiss_suggestion(self, suggestion_id: str, now: dt.datetime) -> None:
        self._emit(EventKind.SUGGESTION_DISMISSED, now, data={"suggestion": suggestion_id})

    # ----- the service day

    def roll_day(self, now: dt.datetime) -> None:
        """Start a new service day when the date changed: close what the previous day left open."""
        today = now.date()
        if self.day == today:
            return
        if self.day is not None:
            self.end_day(now)
        self.day = today
        self.last_number = {}
        self._numbers_touched = True
        self.tickets = {tid: t for tid, t in self.tickets.items() if t.is_open}
        self.last_called.clear()
        self.band_last_called.clear()

    def end_day(self, now: dt.datetime) -> list[Ticket]:
        """Cancel every open visit (day end); their card data is erased with them."""
        ended = [t for t in self.tickets.values() if t.is_open]
        for ticket in ended:
            self._release_counter(ticket)
            self._close(ticket, TicketStatus.CANCELLED, now)
            self._emit(EventKind.CANCELLED, now, ticket, data={"reason": "day_end"})
        return ended

    def cancel(self, ticket_id: str, reason: str, now: dt.datetime) -> Ticket:
        ticket = self._open_ticket(ticket_id)
        self._release_counter(ticket)
        self._close(ticket, TicketStatus.CANCELLED, now)
        self._emit(EventKind.CANCELLED, now, ticket, data={"reason": reason})
        return ticket

    # ----- internals shared by the command modules

    def _open_ticket(self, ticket_id: str) -> Ticket:
        ticket = self.ticket(ticket_id)
        if not ticket.is_open:
            raise conflict("ticket_closed", ticket=ticket_id, status=ticket.status.value)
        return ticket

    def _index_ticket(self, ticket: Ticket) -> None:
        if ticket.is_open:
            self._open_numbers.setdefault(ticket.band, set()).add(ticket.number)
        else:
            self._open_numbers.setdefault(ticket.band, set()).discard(ticket.number)
        if ticket.status is TicketStatus.WAITING:
            self._waiting[ticket.id] = ticket
            self._queue.add(self.candidate(ticket))
        else:
            self._waiting.pop(ticket.id, None)
            self._queue.remove(ticket.id)
        self._touched_tickets[ticket.id] = ticket

    def _set_status(self, ticket: Ticket, status: TicketStatus) -> None:
        ticket.status = status
        self._index_ticket(ticket)

    def _close(self, ticket: Ticket, status: TicketStatus, now: dt.datetime) -> None:
        for step in ticket.steps:
            if step.state in (StepState.TODO, StepState.ACTIVE):
                step.state = StepState.SKIPPED
        ticket.finished_at = now
        ticket.counter_id = None
        self._set_status(ticket, status)

    def _release_counter(self, ticket: Ticket) -> None:
        if ticket.counter_id and ticket.status in AT_COUNTER:
            counter = self.counters[ticket.counter_id]
            if counter.ticket_id == ticket.id:
                counter.ticket_id = None
                self._touched_counters.add(counter.id)

    def _emit(self, kind: EventKind, at: dt.datetime, ticket: Ticket | None = None,
              counter: Counter | None = None, data: Mapping[str, object] | None = None) -> None:
        self.version += 1
        self._outbox.append(Event(
            kind=kind, at=at, ticket_id=ticket.id if ticket else None,
            counter_id=counter.id if counter else (ticket.counter_id if ticket else None),
            band=ticket.band if ticket else None, number=ticket.number if ticket else None,
            step=ticket.current if ticket else None,
            procedure=ticket.procedure if ticket and ticket.steps else None,
            data=dict(data or {}),
        ))
        if counter is not None:
            self._touched_counters.add(counter.id)


def _make_next(ticket: Ticket, procedure: str) -> None:
    """Make ``procedure`` the step after the current one: moved up from later in the plan if it is
    still to do there, added to the plan otherwise."""
    later = next((i for i in range(ticket.current + 1, len(ticket.steps))
                  if ticket.steps[i].procedure == procedure and ticket.steps[i].state is StepState.TODO), None)
    step = ticket.steps.pop(later) if later is not None else Step(procedure)
    ticket.steps.insert(ticket.current + 1, step)


def _suggestion_data(suggestion: Suggestion) -> dict[str, object]:
    return {
        "suggestion": suggestion.id, "counter": suggestion.counter_id, "from_band": suggestion.from_band,
        "to_band": suggestion.to_band,
        "before_min": {b: round(e.minutes, 1) for b, e in suggestion.before.items()},
        "after_min": {b: round(e.minutes, 1) for b, e in suggestion.after.items()},
    }
