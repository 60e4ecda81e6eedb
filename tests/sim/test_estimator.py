"""The wait estimate: learned breaks, its fast path, and its accuracy against the baselines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from madoguchi.server.config.schema import default_config_dir
from madoguchi.server.core import estimates
from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.estimator import Estimate, interval, project
from madoguchi.server.core.handling import CounterBreaks
from madoguchi.server.core.policy import Policy
from madoguchi.server.simulate import measures, runner
from madoguchi.server.simulate.scenario import load_scenario
from tests.factories import JUMINHYO, MONDAY_9AM, OKUYAMI, chuo, minutes, office

DAY = dt.timedelta(days=1)


def at(day: dt.datetime, hour: int, minute: int = 0) -> dt.datetime:
    return day.replace(hour=hour, minute=minute)


def test_a_usual_lunch_break_is_learned_from_the_previous_days():
    breaks = CounterBreaks()
    for back in (2, 1):
        day = MONDAY_9AM - back * DAY
        breaks.observe("c1", True, at(day, 12))
        breaks.observe("c1", False, at(day, 13))
    assert breaks.upcoming("c1", at(MONDAY_9AM, 11)) == (at(MONDAY_9AM, 12), at(MONDAY_9AM, 13))
    breaks.observe("c1", True, at(MONDAY_9AM, 12, 5))
    assert breaks.paused_until("c1", at(MONDAY_9AM, 12, 30)) == at(MONDAY_9AM, 13, 5)
    breaks.observe("c1", False, at(MONDAY_9AM, 13, 5))
    assert breaks.upcoming("c1", at(MONDAY_9AM, 13, 30)) is None  # today's break is taken
    assert breaks.upcoming("c2", at(MONDAY_9AM, 11)) is None  # nothing learned for c2


def test_a_queue_waits_through_the_lunch_break_of_its_only_counter():
    o = office()
    for cid in o.counters:
        o.update_counter(cid, MONDAY_9AM - 3 * DAY, state=CounterState.OPEN if cid == "c1" else CounterState.CLOSED)
    for back in (2, 1):
        day = MONDAY_9AM - back * DAY
        o.update_counter("c1", at(day, 12), state=CounterState.PAUSED)
        o.update_counter("c1", at(day, 13), state=CounterState.OPEN)
    now = at(MONDAY_9AM, 11, 50)
    first = o.issue(JUMINHYO, now)
    o.call_next("c1", now)
    o.start("c1", now)
    second = o.issue(JUMINHYO, now)
    third = o.issue(JUMINHYO, now)
    # c1 finishes the first visit (~5 min), calls the second before noon, then goes to lunch
    assert o.estimate(second, now).minutes < 10
    assert o.estimate(third, now).minutes >= 70
    assert first.counter_id == "c1"


def test_a_new_visit_at_a_free_counter_is_told_zero_minutes():
    o = office()
    ticket = o.issue(JUMINHYO, MONDAY_9AM)
    assert o.estimate(ticket, MONDAY_9AM) == Estimate(0.0, 0.0, 0.0)


def test_short_certain_waits_get_no_margin_and_long_ones_do():
    short = interval(3.0, 0.5, 1)
    long = interval(90.0, 0.5, 10)
    assert short.minutes == 3.0 and short.low < 3.0 < short.high
    assert long.minutes > 90.0  # raised so that few visits are called more than 5 minutes later
    assert long.low < 90.0 < long.minutes < long.high


@dataclass(frozen=True)
class WithoutKey:
    """The same policy, hiding its queue order: the projection must then show it every visit."""

    inner: Policy

    def choose(self, counter, candidates, now, last_called=None):  # type: ignore[no-untyped-def]
        return self.inner.choose(counter, candidates, now, last_called)

    def hand_on(self, counter, following, free, waiting):  # type: ignore[no-untyped-def]
        return self.inner.hand_on(counter, following, free, waiting)  # type: ignore[attr-defined]


def test_the_sorted_fast_path_projects_exactly_what_the_policy_would_do():
    o = office()
    now = MONDAY_9AM
    for cid in ("c1", "c2"):  # two bands compete for these counters: the policy's urgency and aging decide
        o.update_counter(cid, now, skills=["simple", "okuyami"])
    for i in range(60):
        o.issue(JUMINHYO, now + minutes(i / 10))
        if i % 15 == 0:
            o.issue(OKUYAMI, now + minutes(i / 10))
    later = now + minutes(6)
    for cid in ("c1", "c2"):
        o.call_next(cid, later)
    open_counters, away = estimates.available_counters(o, o.counters, later)
    waiting = [estimates.Waiting(o.candidate(t), estimates.remaining_after_current(t)) for t in o.waiting()]
    fast = project(later, open_counters, [], waiting, o.policy, o.handling, away=away, queue_key=o.policy_key,
                   last_called=o.band_last_called)
    slow = project(later, open_counters, [], waiting, WithoutKey(o.policy), o.handling, away=away,
                   last_called=o.band_last_called)
    assert fast.calls == slow.calls and len(fast.calls) == len(waiting)


def test_on_simulated_days_the_estimate_beats_every_baseline():
    site = chuo()
    scenario = load_scenario(default_config_dir(), "monday_after_holiday")
    result = runner.run(site.rules, site.catalog, scenario, ("guided",), range(2), 2)["guided"]
    found = measures.accuracy(result)
    ours = found["project"]
    assert ours.n > 500
    for baseline in measures.BASELINES:
        assert ours.mae < 0.8 * found[baseline].mae, baseline
    assert ours.under_share < 0.15
    assert 0.7 < ours.coverage < 0.9
