"""The simulator against queueing theory: the real office, driven like a textbook queue, must agree.

Exact sample paths first: every simulated wait equals the FIFO recursion of the same residents, so a
counter 3% slower than the drawn handling times fails at once. Then textbook means over many days,
and the estimator against the Erlang quantiles of M/M/s.

Each day is an independent replication (the office starts empty); visits that arrive in the first
three hours are dropped as warm-up. The 95% confidence interval comes from the spread of the day
means, so a simulator off by a few percent in arrivals, handling or calling would fail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from madoguchi.server.config.schema import default_config_dir
from madoguchi.server.core import issuing
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.simulate import measures, runner
from madoguchi.server.simulate.engine import Simulator
from madoguchi.server.simulate.population import Population, Segment, Visit
from madoguchi.server.simulate.scenario import Outage, Staff, load_scenario
from tests.factories import chuo
from tests.sim.mms import erlang_quantile, fifo_waits
from tests.sim.queues import erlang_c_wait, poisson_scenario, queue_site

WARMUP_MIN = 5 * 60  # arrivals open at 2:00; keep those from 5:00 on


def day_mean_waits(servers: int, arrivals_per_min: float, mean_service_min: float, days: int) -> list[float]:
    site, catalog = queue_site(servers, mean_service_min)
    result = runner.run(site, catalog, poisson_scenario(arrivals_per_min), ("guided",), range(1, days + 1), 1,
                        warmup_days=0, measure_estimates=False)["guided"]
    means = []
    for seed_run in result.runs:
        waits = [t.wait_min for day in seed_run.days for t in day.tickets
                 if t.issued_min >= WARMUP_MIN and t.wait_min is not None]
        means.append(measures.mean(waits))
    return means


def confidence_interval(values: list[float]) -> tuple[float, float]:
    mean = measures.mean(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    half = 1.96 * sd / math.sqrt(len(values))
    return mean - half, mean + half


@pytest.mark.parametrize("servers, arrivals_per_min, mean_service_min", [
    (1, 0.12, 5.0),  # M/M/1 at 60% load: Wq = ρ/(μ-λ) = 7.5 min
    (3, 0.42, 5.0),  # M/M/3 at 70% load: Erlang C, Wq ≈ 3.2 min
])
def test_mean_wait_matches_the_textbook_within_its_confidence_interval(servers, arrivals_per_min, mean_service_min):
    expected = erlang_c_wait(servers, arrivals_per_min, mean_service_min)
    if servers == 1:
        rho = arrivals_per_min * mean_service_min
        assert expected == pytest.approx(rho * mean_service_min / (1 - rho))  # the M/M/1 formula itself
    low, high = confidence_interval(day_mean_waits(servers, arrivals_per_min, mean_service_min, days=120))
    assert low <= expected <= high, f"textbook {expected:.2f} min outside the simulated 95% CI [{low:.2f}, {high:.2f}]"


def test_a_slower_counter_is_noticed():
    """The check has teeth: handling 15% slower than the textbook assumes falls outside the interval."""
    expected = erlang_c_wait(1, 0.12, 5.0)
    low, _ = confidence_interval(day_mean_waits(1, 0.12, 5.75, days=120))
    assert low > expected


def fifo_day(servers: int, arrivals_per_min: float, mean_service_min: float, policy: str, slower: float = 1.0,
             seed: int = 1) -> tuple[list[float], list[float]]:
    """One simulated day's waits, and the exact FIFO waits of the same residents at ``servers`` counters.

    ``slower`` makes every counter take that much longer than the residents' drawn handling times:
    the simulator with a slightly slow counter, to show that the comparison notices.
    """
    site, catalog = queue_site(servers, mean_service_min)
    scenario = poisson_scenario(arrivals_per_min)
    visits = Population(scenario, site, catalog).day(seed, 0, scenario.first_day)
    exact = fifo_waits([v.arrival_min for v in visits], [v.handling_min["p"] for v in visits], servers)
    served = [dataclasses.replace(v, handling_min={"p": v.handling_min["p"] * slower}) for v in visits]
    simulator = Simulator(site, catalog, scenario, policy, measure_estimates=False)  # type: ignore[arg-type]
    day = simulator.run_day(served, scenario.first_day, seed, 0)
    simulated = [t.wait_min for t in day.tickets]
    assert None not in simulated and len(simulated) == len(exact) > 300
    return [w for w in simulated if w is not None], exact


@pytest.mark.parametrize("policy", ["today", "guided"])
def test_every_wait_is_the_exact_fifo_wait_of_the_same_residents(policy):
    simulated, exact = fifo_day(3, 0.5, 5.0, policy)  # M/M/3 at 83% load: long queues
    assert max(abs(s - e) for s, e in zip(simulated, exact, strict=True)) < 1e-6
    assert measures.mean(exact) > 3.0


def test_a_counter_3_percent_slower_fails_the_exact_check():
    simulated, exact = fifo_day(3, 0.5, 5.0, "guided", slower=1.03)
    errors = [abs(s - e) for s, e in zip(simulated, exact, strict=True)]
    assert max(errors) > 1.0  # minutes: far outside the 1e-6 the exact check allows
    assert measures.mean(simulated) > 1.05 * measures.mean(exact)


def test_the_wait_estimate_against_the_erlang_quantiles_of_mms():
    """M/M/3 at 70% load: with every counter busy and k visits ahead, the wait is Erlang(k + 1, 3μ).

    The exact 10–90% quantiles hold 80% of the simulated waits (the simulator and the formula agree);
    the estimator, which learned the handling times itself, centres its interval within 5% of the
    exact mean and covers 75–90% of the waits (its interval is wider than the exact one: its spread
    formula is not the Erlang one), and its error is at most a third above that of the exact median.
    """
    servers, rate, mean_service = 3, 0.42, 5.0
    site, catalog = queue_site(servers, mean_service)
    scenario = poisson_scenario(rate)

    class Probe(Simulator):
        def _predict(self, ticket, record):  # type: ignore[no-untyped-def]
            super()._predict(ticket, record)
            record.baselines["ahead"] = len(self.office.waiting()) - 1
            record.baselines["busy"] = sum(1 for c in self.office.counters.values() if c.ticket_id is not None)

    simulator = Probe(site, catalog, scenario, "guided")
    population = Population(scenario, site, catalog)
    busy = []
    for index in range(30):
        date = scenario.first_day + dt.timedelta(days=index)
        day = simulator.run_day(population.day(1, index, date), date, 1, index)
        if index >= 2:  # the estimator has learned the handling times
            busy += [t for t in day.tickets if t.issued_min >= WARMUP_MIN and t.baselines["busy"] == servers]
    assert len(busy) > 3000
    exact_inside = estimate_inside = 0
    exact_error = estimate_error = 0.0
    centres, exact_means = [], []
    for t in busy:
        shape = int(t.baselines["ahead"]) + 1
        q10, q50, q90 = (erlang_quantile(q, shape, servers / mean_service) for q in (0.1, 0.5, 0.9))
        exact_inside += q10 <= t.wait_min <= q90
        estimate_inside += t.estimate.low <= t.wait_min <= t.estimate.high
        exact_error += abs(t.wait_min - q50)
        estimate_error += abs(t.wait_min - t.estimate.minutes)
        if t.estimate.low > 0:
            centres.append((t.estimate.low + t.estimate.high) / 2)
            exact_means.append(shape * mean_service / servers)
    n = len(busy)
    assert 0.78 <= exact_inside / n <= 0.82
    assert abs(measures.mean(centres) / measures.mean(exact_means) - 1) < 0.05
    assert 0.75 <= estimate_inside / n <= 0.90
    assert estimate_error <= 1.35 * exact_error


@pytest.mark.parametrize("policy, has_card, stay", [
    ("today", True, 12 + 1 + 10 + 5 + 1 + 12),  # forms, walk, 転出届 + input, walk (same 区民課), 国保
    ("kakanai", True, 3 + 1 + 10 + 1 + 12),  # the kiosk instead of forms, the card instead of input; same queues
    ("kakanai", False, 3 + 1 + 10 + 5 + 1 + 12),  # without a card the four items are typed at reception
    ("fifo", True, 3 + 1 + 10 + 12),  # one ticket: the one-stop counter continues with 国保
    ("guided", True, 3 + 1 + 10 + 12),
])
def test_a_tenshutsu_with_kokuho_alone_in_the_office_takes_exactly_its_minutes(policy, has_card, stay):
    site = chuo()
    scenario = load_scenario(default_config_dir(), "ordinary")
    scenario = scenario.model_copy(update={"outage": Outage(), "staff": Staff(lunch_min=0)})
    request = IssueRequest(life_event="tenshutsu", answers={
        "household": [{"age": 30, "relation": "self"}], "kokuho": True, "disability": False, "dog": False},
        has_card=has_card)
    bands = {b.id: b for b in site.rules.bands}
    band, plan = issuing.plan(site.catalog, bands, request, scenario.first_day)
    assert plan == ["tenshutsu_todoke", "kokuho"]
    visit = Visit(0, "tenshutsu", "tenshutsu", 9 * 60.0, request, band.id, tuple(plan),
                  {"tenshutsu_todoke": 10.0, "kokuho": 12.0},
                  (Segment("kuminka", ("tenshutsu_todoke",), 12.0), Segment("kuminka", ("kokuho",), 0.0, True)),
                  3.0, False, has_card)
    simulator = Simulator(site.rules, site.catalog, scenario, policy, measure_estimates=False)  # type: ignore[arg-type]
    (record,) = simulator.run_day([visit], scenario.first_day, 1, 0).visits
    assert record.outcome == "done"
    assert record.stay_min == pytest.approx(stay, abs=1e-9)
