"""From simulated records to the figures of DESIGN §9: stay, waits, estimate accuracy.

Pure Python (no numpy) so that tests and the CLI can use it anywhere; confidence intervals by a
percentile bootstrap over seeds (seeds are independent replications; days within a seed share
the office's learned state, so they are not).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from madoguchi.server.core.measures import Accuracy, quantile
from madoguchi.server.core.measures import accuracy as measure_accuracy
from madoguchi.server.simulate.engine import TicketRecord, VisitRecord
from madoguchi.server.simulate.runner import RunResult

DEPARTMENTS_OF_THE_SURVEY = frozenset({"kuminka", "fukushika", "hokenkodomo"})
PREDICTORS = ("project", "QL", "LES", "ZMS", "HOUR")
BASELINES = PREDICTORS[1:]


def tennyu_three_departments(record: VisitRecord) -> bool:
    """The R6 survey's visit: a 転入 with procedures at 区民課, 福祉課 and 保健子ども課."""
    return record.visit.life_event == "tennyu" and record.visit.departments >= DEPARTMENTS_OF_THE_SURVEY


def tennyu_any(record: VisitRecord) -> bool:
    return record.visit.life_event == "tennyu"


def every_visit(record: VisitRecord) -> bool:
    return True


COHORTS: dict[str, Callable[[VisitRecord], bool]] = {
    "転入 (3 departments)": tennyu_three_departments,
    "転入 (all)": tennyu_any,
}
LADDER_COHORTS: dict[str, Callable[[VisitRecord], bool]] = {
    "all visits": every_visit,
    "転入": tennyu_any,
}
ALL_COHORTS = {**LADDER_COHORTS, "転入 (3 departments)": tennyu_three_departments}


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else math.nan


def visits(result: RunResult) -> Iterable[VisitRecord]:
    for seed_run in result.runs:
        for day in seed_run.days:
            yield from day.visits


def tickets(result: RunResult) -> Iterable[TicketRecord]:
    for seed_run in result.runs:
        for day in seed_run.days:
            yield from day.tickets


def stays_by_seed(result: RunResult, cohort: Callable[[VisitRecord], bool],
                  censored: bool = True) -> list[list[float]]:
    """Stays per seed: of finished visits and, with ``censored``, of visits still there at close (their
    stay counted until the close, a lower bound). No-shows are left out (they left on their own)."""
    outcomes = {"done", "open"} if censored else {"done"}
    return [[v.stay_min for day in run.days for v in day.visits
             if v.outcome in outcomes and v.stay_min is not None and cohort(v)] for run in result.runs]


def unserved_by_seed(result: RunResult, cohort: Callable[[VisitRecord], bool] = every_visit) -> list[list[float]]:
    """Per seed, per day: how many residents were still there, unserved or half served, at close."""
    return [[float(sum(1 for v in day.visits if v.outcome == "open" and cohort(v))) for day in run.days]
            for run in result.runs]


def visit_waits_by_seed(result: RunResult, band: str) -> list[list[float]]:
    """Per seed, the whole wait of each visit of a band (every queue it stood in; until close if open)."""
    return [[v.wait_min for day in run.days for v in day.visits if v.visit.band == band and v.outcome != "no_show"]
            for run in result.runs]


def paired_difference(numerator: list[list[float]], denominator: list[list[float]],
                      statistic: Callable[[Sequence[float]], float], resamples: int = 2000,
                      seed: int = 7) -> Ratio:
    """statistic(numerator) − statistic(denominator), 95% CI resampling seeds (paired)."""
    def difference(indexes: Sequence[int]) -> float:
        top = [x for i in indexes for x in numerator[i]]
        bottom = [x for i in indexes for x in denominator[i]]
        return statistic(top) - statistic(bottom) if top and bottom else math.nan

    n = len(numerator)
    rng = random.Random(seed)
    draws = [difference([rng.randrange(n) for _ in range(n)]) for _ in range(resamples)]
    draws = [d for d in draws if not math.isnan(d)]
    return Ratio(difference(range(n)), quantile(draws, 0.025), quantile(draws, 0.975))


@dataclass(frozen=True)
class Ratio:
    value: float
    low: float
    high: float


def bootstrap_ratio(numerator: list[list[float]], denominator: list[list[float]],
                    statistic: Callable[[Sequence[float]], float], resamples: int = 2000,
                    seed: int = 7) -> Ratio:
    """statistic(numerator) / statistic(denominator), 95% CI resampling seeds (paired)."""
    def ratio(indexes: Sequence[int]) -> float:
        top = [x for i in indexes for x in numerator[i]]
        bottom = [x for i in indexes for x in denominator[i]]
        return statistic(top) / statistic(bottom) if top and bottom else math.nan

    n = len(numerator)
    value = ratio(range(n))
    rng = random.Random(seed)
    draws = [ratio([rng.randrange(n) for _ in range(n)]) for _ in range(resamples)]
    draws = [d for d in draws if not math.isnan(d)]
    return Ratio(value, quantile(draws, 0.025), quantile(draws, 0.975))


def mean_ci(samples_by_seed: list[list[float]]) -> tuple[float, float]:
    """Mean over all samples and the half-width of its 95% CI from seed-to-seed variation."""
    seed_means = [mean(s) for s in samples_by_seed if s]
    pooled = [x for s in samples_by_seed for x in s]
    if len(seed_means) < 2:
        return mean(pooled), math.nan
    m = mean(seed_means)
    var = sum((x - m) ** 2 for x in seed_means) / (len(seed_means) - 1)
    return mean(pooled), 1.96 * math.sqrt(var / len(seed_means))


@dataclass(frozen=True)
class Split:
    """Where a cohort's stay went, in mean minutes."""

    n: int
    stay: float
    forms: float
    wait: float
    walk: float
    handling: float


def split(result: RunResult, cohort: Callable[[VisitRecord], bool]) -> Split:
    done = [v for v in visits(result) if v.outcome == "done" and cohort(v)]
    return Split(len(done), mean(v.stay_min or 0.0 for v in done), mean(v.forms_min for v in done),
                 mean(v.wait_min for v in done), mean(v.walk_min for v in done),
                 mean(v.handling_min for v in done))


def band_waits(result: RunResult) -> dict[str, list[float]]:
    """Per band, each ticket's wait until its first call; a ticket never called counts until close."""
    waits: dict[str, list[float]] = {}
    for ticket in tickets(result):
        if ticket.observed_wait_min is not None:
            waits.setdefault(ticket.band, []).append(ticket.observed_wait_min)
    return waits


def accuracy(result: RunResult, predicate: Callable[[TicketRecord], bool] = lambda t: True) -> dict[str, Accuracy]:
    """Each predictor's accuracy on every ticket estimated at issue; only the project's has an interval.

    A ticket never called (still waiting at close) counts with its wait until the close: a lower
    bound, so its error is if anything understated — leaving it out would hide the worst estimates.
    """
    measured = [t for t in tickets(result)
                if t.observed_wait_min is not None and t.estimate is not None and predicate(t)]
    found: dict[str, Accuracy] = {}
    for name in PREDICTORS:
        found[name] = measure_accuracy(
            (t.estimate.minutes if name == "project" else t.baselines[name], t.observed_wait_min,
             (t.estimate.low, t.estimate.high) if name == "project" else None)
            for t in measured if t.estimate is not None and t.observed_wait_min is not None)
    return found


def waited(ticket: TicketRecord) -> bool:
    """The ticket was not called at once (it actually waited)."""
    wait = ticket.observed_wait_min
    return wait is not None and wait > 0


def by_hour(records: Iterable[tuple[float, float]]) -> dict[int, list[float]]:
    """Group (minute of day, value) pairs by clock hour."""
    grouped: dict[int, list[float]] = {}
    for minute, value in records:
        grouped.setdefault(int(minute // 60), []).append(value)
    return grouped


@dataclass(frozen=True)
class MoveCheck:
    """The floor guide's accepted moves against what followed them."""

    moves_per_day: float
    returning_share: float
    n_checked: int
    predicted_to: float  # mean predicted new-arrival wait of the band joined, after the move
    actual_to: float  # mean wait of the tickets of that band issued in the following window
    before_to: float  # what the estimate said without the move
    mae_to: float


def move_check(result: RunResult, window_min: float) -> MoveCheck:
    """Each accepted move's predicted wait for the band it joins against the mean wait of the
    tickets of that band issued within ``window_min`` after it (censored at close)."""
    days = moves = returning = 0
    predicted: list[float] = []
    actual: list[float] = []
    before: list[float] = []
    for seed_run in result.runs:
        for day in seed_run.days:
            days += 1
            for move in day.moves:
                moves += 1
                returning += move.returning
                waits = [t.observed_wait_min for t in day.tickets
                         if t.band == move.to_band and move.at_min <= t.issued_min < move.at_min + window_min
                         and t.observed_wait_min is not None]
                if waits:
                    predicted.append(move.to_after)
                    actual.append(mean(waits))
                    before.append(move.to_before)
    return MoveCheck(moves / days if days else math.nan, returning / moves if moves else math.nan, len(predicted),
                     mean(predicted), mean(actual), mean(before),
                     mean(abs(p - a) for p, a in zip(predicted, actual, strict=True)))
