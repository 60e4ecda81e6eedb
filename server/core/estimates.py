"""Wait estimates of an office: per waiting visit, and per band for a new arrival.

Computed by projection (estimator.project) on the office's current state; cached, since under
heavy issuing the state changes every few milliseconds while an estimate stays good for seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .counter import Counter, CounterState
from .estimator import PHANTOM_PREFIX, Estimate, InService, Waiting, interval, project
from .policy import Candidate
from .ticket import Ticket, TicketStatus

if TYPE_CHECKING:
    from .office import Office

REFRESH_AFTER_S = 2.0  # recompute at most this often while the office keeps changing
STALE_AFTER_S = 30.0  # recompute after this long even if nothing changed
PHANTOM_DELAY = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Estimates:
    computed_at: dt.datetime
    version: int
    tickets: Mapping[str, Estimate]
    bands: Mapping[str, Estimate]  # what a visit issued now in that band would wait
    # per band, the projection behind ``bands``: minutes, services averaged over, handling cv
    projected: Mapping[str, tuple[float, int, float]] = field(default_factory=dict)


def lead_procedure(office: Office, band: str) -> str:
    """The first procedure of a band's visits (e.g. 住民異動届 for one-stop visits)."""
    return next((p.id for p in office.catalog.procedures.values() if p.band == band), band)


def remaining_after_current(ticket: Ticket) -> tuple[str, ...]:
    return tuple(s.procedure for s in ticket.steps[ticket.current + 1:] if s.state.value == "todo")


def fallback(office: Office, band: str) -> Estimate:
    """No open counter can serve the band: its target wait, with a wide interval."""
    target = office.bands[band].target_wait_min
    return Estimate(target, target / 2, target * 2)


def available_counters(office: Office, counters: Mapping[str, Counter],
                       now: dt.datetime) -> tuple[dict[str, Counter], dict[str, tuple[float, float]]]:
    """Counters that will call in the projection, and when each is away (its learned break).

    Open counters, and paused ones whose usual break says when they come back.
    """
    def offset(at: dt.datetime) -> float:
        return (at - now).total_seconds() / 60

    available: dict[str, Counter] = {}
    away: dict[str, tuple[float, float]] = {}
    for cid, counter in counters.items():
        if counter.state is CounterState.OPEN:
            available[cid] = counter
            upcoming = office.breaks.upcoming(cid, now)
            if upcoming is not None:
                away[cid] = (max(offset(upcoming[0]), 0.0), offset(upcoming[1]))
        elif counter.state is CounterState.PAUSED:
            back = office.breaks.paused_until(cid, now)
            if back is not None:
                available[cid] = counter
                away[cid] = (0.0, offset(back))
    return available, away


def compute(office: Office, now: dt.datetime, counters: Mapping[str, Counter] | None = None) -> Estimates:
    counters = counters if counters is not None else office.counters
    open_counters, away = available_counters(office, counters, now)
    in_service = []
    for counter in open_counters.values():
        ticket = office.ticket_at(counter)
        if ticket is None:
            continue
        started = ticket.status is TicketStatus.SERVING
        since = (ticket.step.started_at if started else ticket.called_at) or now
        in_service.append(InService(counter.id, office.candidate(ticket), since, started,
                                    remaining_after_current(ticket)))
    waiting = [Waiting(office.candidate(t), remaining_after_current(t)) for t in office.waiting()]
    just_after = now + PHANTOM_DELAY  # behind every visit issued so far, whatever the tie-break
    phantoms = [
        Waiting(Candidate(PHANTOM_PREFIX + band, band, lead_procedure(office, band), just_after, just_after))
        for band in office.bands
    ]
    projection = project(now, open_counters, in_service, waiting + phantoms, office.policy, office.handling,
                         walk_min=office.site.policy.walk_min, away=away, queue_key=office.policy_key,
                         last_called=office.band_last_called)
    tickets = {w.candidate.ticket_id: projection.estimate(w.candidate.ticket_id) or fallback(office, w.candidate.band)
               for w in waiting}
    bands = {band: projection.estimate(PHANTOM_PREFIX + band) or fallback(office, band) for band in office.bands}
    projected = {band: (*projection.calls[PHANTOM_PREFIX + band], projection.cv.get(PHANTOM_PREFIX + band, 0.6))
                 for band in office.bands if PHANTOM_PREFIX + band in projection.calls}
    return Estimates(now, office.version, tickets, bands, projected)


def shifted(estimate: Estimate, minutes: float) -> Estimate:
    """The same estimate seen ``minutes`` later."""
    return Estimate(max(estimate.minutes - minutes, 0.0), max(estimate.low - minutes, 0.0),
                    max(estimate.high - minutes, 0.0))


def for_ticket(office: Office, estimates: Estimates, ticket: Ticket, now: dt.datetime) -> Estimate:
    """A waiting visit's estimate; one issued since the last projection extends its band's."""
    age_min = (now - estimates.computed_at).total_seconds() / 60
    known = estimates.tickets.get(ticket.id)
    if known is not None:
        return shifted(known, age_min)
    if ticket.status is not TicketStatus.WAITING:
        return Estimate(0.0, 0.0, 0.0)
    newer_ahead = office.ahead_since(ticket, estimates.computed_at)  # issued since the projection
    return _extended(office, estimates, ticket.band, ticket.procedure, [ticket.procedure] * newer_ahead, now)


def for_band(office: Office, estimates: Estimates, band: str, newer: Sequence[str], now: dt.datetime) -> Estimate:
    """What a visit issued now in ``band`` is told: the projection's, extended by the band's visits issued
    since it was made (``newer``: their procedures), e.g. a burst at the kiosks before the next projection."""
    return _extended(office, estimates, band, lead_procedure(office, band), newer, now)


def _extended(office: Office, estimates: Estimates, band: str, procedure: str, newer: Sequence[str],
              now: dt.datetime) -> Estimate:
    age_min = (now - estimates.computed_at).total_seconds() / 60
    base = shifted(estimates.bands[band], age_min)
    projected = estimates.projected.get(band)
    if not newer or projected is None:
        return base
    servers = sum(1 for c in office.counters.values()
                  if c.state is CounterState.OPEN and c.can_serve(band, procedure)) or 1
    extra = sum(office.handling.mean(p, now.hour) for p in newer) / servers
    minutes, services, cv = projected
    return interval(max(minutes - age_min, 0.0) + extra, cv, services + len(newer) // servers)
