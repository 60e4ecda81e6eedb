"""The residents of one simulated day, drawn once and replayed under each policy.

Everything random about a visit (arrival, household and answers, handling time of each step,
forms, walking, whether the resident leaves before the call) is drawn here, so the balanced and
the static policy see exactly the same people (common random numbers: their difference is the
policy's, not chance's).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from madoguchi.server.core import issuing
from madoguchi.server.core.catalog import Band, Catalog, QuestionType
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.site import SiteRules
from madoguchi.server.core.ticket import Priority
from madoguchi.server.simulate.scenario import HouseholdType, Scenario, Stream

MIXTURE_QUICK_SHARE, MIXTURE_QUICK, MIXTURE_LONG = 0.75, 0.7, 1.9  # 0.75·0.7 + 0.25·1.9 = 1: the mean kept
PRIORITIES = (Priority.ELDERLY, Priority.WHEELCHAIR, Priority.INFANT, Priority.PREGNANT, Priority.INTERPRETER)


@dataclass(frozen=True)
class Segment:
    """The part of a visit served by one department (one ticket under the static policy)."""

    department: str
    procedures: tuple[str, ...]
    forms_min: float  # writing its forms by hand (today's office only); once per department
    same_department: bool = False  # follows a segment of the same department (no walk, no new forms)


@dataclass(frozen=True)
class Visit:
    id: int
    stream: str
    life_event: str | None
    arrival_min: float  # minutes after midnight
    request: IssueRequest
    band: str
    plan: tuple[str, ...]
    handling_min: Mapping[str, float]  # per procedure of the plan, the card-assisted duration
    segments: tuple[Segment, ...]
    kiosk_min: float
    no_show: bool
    has_card: bool = True  # a My Number card the kiosk reads (else staff type the four items)

    @property
    def departments(self) -> frozenset[str]:
        return frozenset(s.department for s in self.segments)


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    sigma2 = math.log(1 + cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


class Population:
    """Draws the visits of a day of ``scenario`` at a site."""

    def __init__(self, scenario: Scenario, site: SiteRules, catalog: Catalog) -> None:
        self.scenario = scenario
        self.site = site
        self.catalog = catalog
        self.bands: dict[str, Band] = {b.id: b for b in site.bands}
        rates = scenario.rate_per_hour()
        open_min = site.opens_at.hour * 60 + site.opens_at.minute
        close_min = site.closes_at.hour * 60 + site.closes_at.minute
        self.slots: list[tuple[float, float, float]] = []  # start, end, weight per minute
        for hour in range(24):
            start, end = max(hour * 60, open_min), min((hour + 1) * 60, close_min)
            if end > start and rates.get(hour, 0.0) > 0:
                self.slots.append((float(start), float(end), rates[hour]))
        self.weight_total = sum((end - start) * w for start, end, w in self.slots)
        self.household_share = sum(h.share for h in scenario.household_types)

    def day(self, seed: int, day_index: int, date: dt.date) -> list[Visit]:
        rng = random.Random(f"{self.scenario.name}:{seed}:{day_index}")
        visits: list[Visit] = []
        for stream in self.scenario.streams:
            for arrival in self._arrivals(rng, stream.per_day * self.scenario.volume
                                                 * self.scenario.stream_volume.get(stream.id, 1.0)):
                visits.append(self._visit(rng, stream, arrival, date, len(visits)))
        visits.sort(key=lambda v: (v.arrival_min, v.id))
        return visits

    def _arrivals(self, rng: random.Random, per_day: float) -> list[float]:
        """A Poisson process whose rate follows the hourly profile and integrates to ``per_day``."""
        if per_day <= 0 or self.weight_total <= 0:
            return []
        times = []
        for start, end, weight in self.slots:
            rate = per_day * weight / self.weight_total  # arrivals per minute in this slot
            t = start + rng.expovariate(rate)
            while t < end:
                times.append(t)
                t += rng.expovariate(rate)
        return times

    def _visit(self, rng: random.Random, stream: Stream, arrival: float, date: dt.date, index: int) -> Visit:
        resident = self.scenario.resident
        if stream.life_event is not None:
            answers = self._answers(rng, stream.life_event)
            card = answers.get("my_number_card")
            if not isinstance(card, bool):  # the event does not ask: the scenario's holding rate
                card = rng.random() < self.scenario.answers.get("my_number_card", 0.0)
            request = IssueRequest(life_event=stream.life_event, answers=answers, has_card=card)
        else:
            request = IssueRequest(procedures=tuple(stream.procedures or ()))
        if rng.random() < resident.priority_share:
            request = IssueRequest(request.life_event, request.procedures, request.answers,
                                   priority=frozenset({rng.choice(PRIORITIES)}), has_card=request.has_card)
        band, plan = issuing.plan(self.catalog, self.bands, request, date)
        handling = {p: self._handling(rng, p) for p in plan}
        segments = self._segments(rng, plan, stream)
        kiosk = resident.kiosk_min if stream.life_event else resident.kiosk_simple_min
        kiosk = lognormal(rng, kiosk, 0.3) if kiosk > 0 else 0.0
        no_show = rng.random() < resident.no_show.get(band.id, 0.0)
        return Visit(index, stream.id, stream.life_event, arrival, request, band.id, tuple(plan), handling,
                     segments, kiosk, no_show, request.has_card)

    def _handling(self, rng: random.Random, procedure: str) -> float:
        model = self.scenario.handling
        mean = (self.catalog.procedures[procedure].handling_min * model.multiplier
                * model.per_procedure.get(procedure, 1.0))
        if model.distribution == "exponential":
            return rng.expovariate(1 / mean)
        if model.distribution == "gamma":
            shape = 1 / model.cv**2
            return rng.gammavariate(shape, mean / shape)
        if model.distribution == "mixture":
            quick = rng.random() < MIXTURE_QUICK_SHARE
            return lognormal(rng, mean * (MIXTURE_QUICK if quick else MIXTURE_LONG), 0.3 if quick else 0.4)
        return lognormal(rng, mean, model.cv)

    def _segments(self, rng: random.Random, plan: list[str], stream: Stream) -> tuple[Segment, ...]:
        """The plan cut where the department (or band) changes: one ticket each, today.

        A department's forms are written once, at its first segment: a 転出 with 国保 is one visit
        to 区民課 (its 転出届 at the simple counter, then its 国保 at a one-stop one), not two.
        """
        forms = self.scenario.static.forms_min
        groups: list[tuple[str, str, list[str]]] = []
        for pid in plan:
            procedure = self.catalog.procedures[pid]
            if groups and groups[-1][0] == procedure.department and groups[-1][1] == procedure.band:
                groups[-1][2].append(pid)
            else:
                groups.append((procedure.department, procedure.band, [pid]))
        segments: list[Segment] = []
        seen: set[str] = set()
        for department, band, procedures in groups:
            mean = forms.get(band, forms.get(department, 0.0)) if stream.procedures else forms.get(department, 0.0)
            drawn = lognormal(rng, mean, 0.3) if mean > 0 else 0.0
            same = bool(segments) and segments[-1].department == department
            segments.append(Segment(department, tuple(procedures), 0.0 if department in seen else drawn, same))
            seen.add(department)
        return tuple(segments)

    def _household(self, rng: random.Random) -> HouseholdType | None:
        if not self.scenario.household_types:
            return None
        pick = rng.random() * self.household_share
        for household in self.scenario.household_types:
            pick -= household.share
            if pick <= 0:
                return household
        return self.scenario.household_types[-1]

    def _answers(self, rng: random.Random, life_event: str) -> dict[str, object]:
        event = self.catalog.life_events[life_event]
        household = self._household(rng) if "household" in event.questions else None
        answers: dict[str, object] = {}
        if household is not None:
            answers["household"] = [
                {"age": rng.randint(*m.age), "relation": m.relation}
                for m in household.members for _ in range(rng.randint(*m.count))
            ]
        general = self.scenario.answers
        specific = household.answers if household else {}
        for qid in event.questions:
            question = self.catalog.questions[qid]
            if question.type is QuestionType.BOOL:
                answers[qid] = rng.random() < specific.get(qid, general.get(qid, 0.0))
            elif question.type is QuestionType.CHOICE:
                shares = [(o.id, specific.get(f"{qid}={o.id}", general.get(f"{qid}={o.id}", 0.0)))
                          for o in question.options]
                total = sum(s for _, s in shares)
                if total > 0:
                    pick = rng.random() * total
                    for option, share in shares:
                        pick -= share
                        if pick <= 0:
                            answers[qid] = option
                            break
        return answers
