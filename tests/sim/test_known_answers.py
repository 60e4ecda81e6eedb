"""The simulator against queueing theory: the real office, driven like a textbook queue, must agree.

Each day is an independent replication (the office starts empty); visits that arrive in the first
three hours are dropped as warm-up. The 95% confidence interval comes from the spread of the day
means, so a simulator off by a few percent in arrivals, handling or calling would fail.
"""

from __future__ import annotations

import math

import pytest

from madoguchi.server.simulate import measures, runner
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
