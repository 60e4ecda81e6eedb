"""What-if on a real day: replay a site's own day under another policy, counter plan or staffing.

The day comes as plain rows (``madoguchi replay`` reads them with ``storage.day_export``; the
simulator never touches storage): each visit's ticket time, band, plan, card, priority flag, first
call and outcome, and each step's measured handling time. The residents are those of the day: the
same arrivals, plans and handling minutes; only what the office decides is simulated again.

Reconstruction, stated:
- a resident took the ticket at ``issued_at`` (the kiosk time is already behind them);
- each step takes the minutes it took that day (start to finish); a step never finished takes the
  catalog's prior minutes;
- a visit that ended as a no-show leaves again when first called; walking from a call to the
  counter takes the day's median time from a first call to the start of the step;
- counters: every counter that served a step that day is open all day with its configured skills
  (pauses, lunch and the guide's changes of skills are not in the replay), plus the ones added;
- each visit is issued with its own recorded plan (a replay life event per distinct plan), so the
  answers behind it are not needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from madoguchi.server.core.catalog import Catalog, LifeEvent
from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.site import CounterSpec, SiteRules
from madoguchi.server.core.ticket import Priority
from madoguchi.server.simulate import measures
from madoguchi.server.simulate.engine import DayResult, PolicyName, Simulator
from madoguchi.server.simulate.population import Segment, Visit
from madoguchi.server.simulate.scenario import Scenario

REPLAY_PREFIX = "replay:"


class StepLike(Protocol):
    @property
    def procedure(self) -> str: ...
    @property
    def counter_id(self) -> str | None: ...
    @property
    def started_at(self) -> dt.datetime | None: ...
    @property
    def finished_at(self) -> dt.datetime | None: ...


class VisitLike(Protocol):
    @property
    def band(self) -> str: ...
    @property
    def life_event(self) -> str | None: ...
    @property
    def issued_at(self) -> dt.datetime: ...
    @property
    def first_called_at(self) -> dt.datetime | None: ...
    @property
    def status(self) -> str: ...
    @property
    def has_card(self) -> bool: ...
    @property
    def priority(self) -> bool: ...
    @property
    def steps(self) -> Sequence[StepLike]: ...


@dataclass(frozen=True)
class ExtraCounter:
    """One more counter serving ``band`` from ``opens`` (e.g. ``onestop@10:00``)."""

    band: str
    opens: dt.time
    department: str = "kuminka"

    @classmethod
    def parse(cls, text: str) -> ExtraCounter:
        band, _, at = text.partition("@")
        if not band or not at:
            raise ValueError(f"'{text}': give BAND@HH:MM, e.g. onestop@10:00")
        return cls(band, dt.time.fromisoformat(at))


@dataclass(frozen=True)
class Replayed:
    policy: PolicyName
    day: DayResult


def _minutes(at: dt.datetime, tz: ZoneInfo) -> float:
    local = at.astimezone(tz)
    return local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60e6


def replay_setup(site: SiteRules, catalog: Catalog, rows: Sequence[VisitLike], extra: Iterable[ExtraCounter] = (),
                 timezone: str = "Asia/Tokyo") -> tuple[SiteRules, Catalog, list[Visit], list[tuple[str, float]]]:
    """The site, catalog and visits of the replay, and the added counters with their opening minute."""
    tz = ZoneInfo(timezone)
    events = dict(catalog.life_events)
    plans: dict[tuple[str, tuple[str, ...]], str] = {}
    visits = []
    for index, row in enumerate(rows):
        plan = tuple(step.procedure for step in row.steps)
        if not plan:
            continue
        event_id = plans.setdefault((row.band, plan), f"{REPLAY_PREFIX}{len(plans) + 1}")
        events[event_id] = LifeEvent(event_id, {"ja": event_id}, row.band, (), plan)
        handling = {}
        for step in row.steps:
            if step.started_at is not None and step.finished_at is not None:
                handling[step.procedure] = max((step.finished_at - step.started_at).total_seconds() / 60, 0.01)
            else:
                handling[step.procedure] = catalog.procedures[step.procedure].handling_min
        groups: list[list[str]] = []
        for pid in plan:
            procedure = catalog.procedures[pid]
            if groups and (catalog.procedures[groups[-1][0]].department, catalog.procedures[groups[-1][0]].band) \
                    == (procedure.department, procedure.band):
                groups[-1].append(pid)
            else:
                groups.append([pid])
        segments = tuple(Segment(catalog.procedures[g[0]].department, tuple(g), 0.0,
                                 i > 0 and catalog.procedures[groups[i - 1][0]].department
                                 == catalog.procedures[g[0]].department) for i, g in enumerate(groups))
        priority = frozenset({Priority.WHEELCHAIR}) if row.priority else frozenset()
        request = IssueRequest(life_event=event_id, has_card=row.has_card, priority=priority)
        visits.append(Visit(index, "replay", row.life_event, _minutes(row.issued_at, tz), request, row.band, plan,
                            handling, segments, 0.0, row.status == "no_show", row.has_card))
    used = {step.counter_id for row in rows for step in row.steps if step.counter_id}
    counters = [dataclasses.replace(spec, initial_state=CounterState.OPEN if spec.id in used else CounterState.CLOSED)
                for spec in site.counters]
    added = []
    for n, more in enumerate(extra, start=1):
        cid = f"x{n}"
        counters.append(CounterSpec(cid, {"ja": f"臨時{n}", "en": f"extra {n}"}, more.department, (more.band,)))
        added.append((cid, float(more.opens.hour * 60 + more.opens.minute)))
    return (dataclasses.replace(site, counters=tuple(counters)), dataclasses.replace(catalog, life_events=events),
            visits, added)


def walk_minutes(rows: Sequence[VisitLike], default: float) -> float:
    """The day's median time from a first call to the start of the step (walking to the counter)."""
    walks = sorted((row.steps[0].started_at - row.first_called_at).total_seconds() / 60 for row in rows
                   if row.steps and row.first_called_at is not None and row.steps[0].started_at is not None)
    return max(walks[len(walks) // 2], 0.0) if walks else default


def replay_scenario(site: SiteRules, day: dt.date, walk_min: float) -> Scenario:
    """No arrivals of its own, no breaks, no outage: the day's residents and counters only."""
    return Scenario.model_validate({
        "name": "replay", "description": "a site's own day", "site": site.id, "first_day": day,
        "hourly_profile": {}, "streams": [],
        "resident": {"kiosk_min": 0, "kiosk_simple_min": 0, "walk_to_counter_min": walk_min},
        "staff": {"lunch_min": 0}, "serve_until": "23:59:00",
        "static": {"extra_input_min": 0},  # the recorded handling minutes already hold the input
        "balanced": {"guide_accepts": True, "handover_min": 0},  # … and the handovers
    })


def replay(site: SiteRules, catalog: Catalog, rows: Sequence[VisitLike], day: dt.date,
           policies: Iterable[PolicyName], extra: Iterable[ExtraCounter] = ()) -> list[Replayed]:
    rules, replay_catalog, visits, added = replay_setup(site, catalog, rows, list(extra))
    scenario = replay_scenario(rules, day, walk_minutes(rows, site.policy.walk_min))
    results = []
    for policy in policies:
        simulator = Simulator(rules, replay_catalog, scenario, policy, measure_estimates=False)
        closed = {spec.id for spec in rules.counters if spec.initial_state is CounterState.CLOSED}
        simulator.extra_breaks = [(cid, 0.0, 24 * 60.0, "closed that day") for cid in sorted(closed)]
        simulator.extra_breaks += [(cid, 0.0, opens, "not yet open") for cid, opens in added if opens > 0]
        results.append(Replayed(policy, simulator.run_day(list(visits), day, 0, 0)))
    return results


def recorded_waits(rows: Sequence[VisitLike]) -> list[float]:
    """The day's own waits until the first call, per visit called (minutes)."""
    return [(row.first_called_at - row.issued_at).total_seconds() / 60 for row in rows
            if row.first_called_at is not None and row.steps]


def first_waits(day: DayResult) -> list[float]:
    """Each visit's wait until its first call in the replay, in the order the visits took their tickets."""
    first: dict[int, measures.TicketRecord] = {}
    for ticket in day.tickets:
        if ticket.visit_id not in first or ticket.issued_min < first[ticket.visit_id].issued_min:
            first[ticket.visit_id] = ticket
    order = sorted(first.values(), key=lambda t: (t.issued_min, t.visit_id))
    return [t.wait_min for t in order if t.wait_min is not None]
