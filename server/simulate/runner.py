"""Runs a scenario under a policy over seeds and days, and keeps what the measures need."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from madoguchi.server.core.catalog import Catalog
from madoguchi.server.core.site import SiteRules
from madoguchi.server.simulate.engine import DayResult, PolicyName, Simulator
from madoguchi.server.simulate.population import Population
from madoguchi.server.simulate.scenario import Scenario


@dataclass
class SeedRun:
    seed: int
    days: list[DayResult]


@dataclass
class RunResult:
    scenario: Scenario
    policy: PolicyName
    runs: list[SeedRun] = field(default_factory=list)
    seconds: float = 0.0  # CPU time of the simulation (one process: one core)

    @property
    def site_days(self) -> int:
        return sum(len(r.days) for r in self.runs)


def service_days(first: dt.date, count: int) -> list[dt.date]:
    """``count`` consecutive weekdays from ``first``."""
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def run(site: SiteRules, catalog: Catalog, scenario: Scenario, policies: Iterable[PolicyName], seeds: Iterable[int],
        days: int, *, warmup_days: int = 1, measure_estimates: bool | Collection[PolicyName] = True,
        progress: Callable[[int], None] | None = None) -> dict[PolicyName, RunResult]:
    """Every policy on the same residents: each seed draws its days once, each policy replays them.

    The first ``warmup_days`` are simulated but not kept: a server that has run for a while has
    learned its handling times and its counters' breaks, and that is the state to measure.
    ``measure_estimates``: estimate every ticket at issue in every arm, in none, or in the arms named.
    """
    population = Population(scenario, site, catalog)
    dates = service_days(scenario.first_day, days + warmup_days)
    results = {policy: RunResult(scenario, policy) for policy in policies}
    for seed in seeds:
        visits_by_day = [population.day(seed, index, date) for index, date in enumerate(dates)]
        for policy, result in results.items():
            started = time.process_time()
            measure = measure_estimates if isinstance(measure_estimates, bool) else policy in measure_estimates
            simulator = Simulator(site, catalog, scenario, policy, measure_estimates=measure)
            seed_run = SeedRun(seed, [])
            for index, (date, visits) in enumerate(zip(dates, visits_by_day, strict=True)):
                day = simulator.run_day(visits, date, seed, index)
                if index >= warmup_days:
                    seed_run.days.append(day)
                if progress:
                    progress(1)
            result.runs.append(seed_run)
            result.seconds += time.process_time() - started
    return results
