"""Every resident is accounted for, and each stay splits exactly into its parts."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.server.config.schema import default_config_dir
from madoguchi.server.core.ticket import TicketStatus
from madoguchi.server.simulate.engine import ARMS, LADDER, Simulator
from madoguchi.server.simulate.population import Population
from madoguchi.server.simulate.scenario import load_scenario
from tests.factories import chuo


def one_day(policy: str, scenario_name: str = "peak", serve_until: dt.time | None = None):
    site = chuo()
    scenario = load_scenario(default_config_dir(), scenario_name)
    if serve_until is not None:
        scenario = scenario.model_copy(update={"serve_until": serve_until})
    visits = Population(scenario, site.rules, site.catalog).day(seed=3, day_index=0, date=scenario.first_day)
    simulator = Simulator(site.rules, site.catalog, scenario, policy, measure_estimates=False)  # type: ignore[arg-type]
    return simulator, visits, simulator.run_day(visits, scenario.first_day, seed=3, day_index=0)


@pytest.mark.parametrize("policy", LADDER)
def test_every_arrival_ends_served_no_show_or_open_at_close(policy):
    # a peak day cut short at 17:30: some residents are still there when the counters stop
    simulator, visits, day = one_day(policy, serve_until=dt.time(17, 30))
    outcomes = [v.outcome for v in day.visits]
    assert len(day.visits) == len(visits) > 300
    assert set(outcomes) <= {"done", "no_show", "open"}
    assert outcomes.count("open") > 0 and outcomes.count("no_show") > 0 and outcomes.count("done") > 0
    # the office agrees: every ticket of the day is finished, a no-show, or cancelled at day end
    statuses = {t.status for t in simulator.office.tickets.values() if t.service_day == day.date}
    assert statuses <= {TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.CANCELLED}
    assert not simulator.office.waiting()
    tickets = [t for t in simulator.office.tickets.values() if t.service_day == day.date]
    assert len(tickets) == sum(v.tickets for v in day.visits)
    no_shows = sum(1 for t in tickets if t.status is TicketStatus.NO_SHOW)
    assert no_shows == outcomes.count("no_show")
    cancelled = sum(1 for t in tickets if t.status is TicketStatus.CANCELLED)
    assert 0 < cancelled <= outcomes.count("open")
    # whoever is still there at close counts, with a stay until the close (censored, not dropped)
    close = 17 * 60 + 30
    assert all(v.end_min == close and v.stay_min == close - v.visit.arrival_min
               for v in day.visits if v.outcome == "open")
    never_called = [t for t in day.tickets if t.called_min is None]
    assert never_called and all(t.observed_wait_min == close - t.issued_min for t in never_called)


@pytest.mark.parametrize("policy", LADDER)
def test_a_served_visit_stay_is_forms_plus_waiting_plus_walking_plus_handling(policy):
    _, _, day = one_day(policy, "ordinary")
    done = [v for v in day.visits if v.outcome == "done"]
    assert done
    for v in done:
        parts = v.forms_min + v.wait_min + v.walk_min + v.handling_min
        assert v.stay_min == pytest.approx(parts, abs=1e-6)
        assert v.tickets == (1 if ARMS[policy].one_ticket else len(v.visit.segments))


def test_both_policies_see_the_same_residents():
    _, visits_balanced, balanced = one_day("guided", "ordinary")
    _, visits_static, static = one_day("today", "ordinary")
    assert visits_balanced == visits_static
    assert [v.visit.id for v in balanced.visits] == [v.visit.id for v in static.visits]
    # the static routing writes forms by hand and queues once per department; the balanced one does not
    multi = [(b, s) for b, s in zip(balanced.visits, static.visits, strict=True)
             if len(b.visit.segments) > 1 and b.outcome == s.outcome == "done"]
    assert multi
    assert all(s.forms_min > b.forms_min for b, s in multi)


def test_only_the_forms_and_the_input_of_handwritten_forms_differ_between_today_and_kakanai():
    _, _, today = one_day("today", "ordinary")
    _, _, kakanai = one_day("kakanai", "ordinary")
    pairs = list(zip(today.visits, kakanai.visits, strict=True))
    tenshutsu = [(t, k) for t, k in pairs if t.visit.life_event == "tenshutsu" and t.outcome == k.outcome == "done"
                 and [s.department for s in t.visit.segments] == ["kuminka", "kuminka"]]
    assert tenshutsu  # a 転出 with 国保: one visit to 区民課, its forms once and no walk between its two counters
    for t, k in tenshutsu:
        assert t.visit.segments[1].same_department and t.visit.segments[1].forms_min == 0
        assert t.walk_min == k.walk_min == pytest.approx(2.0)  # a minute to each counter called
        assert t.forms_min == pytest.approx(t.visit.segments[0].forms_min)
    for t, k in pairs:
        if t.outcome == k.outcome == "done":
            assert k.forms_min == pytest.approx(t.visit.kiosk_min)
            # input: 5 min once per life event at 区民課 reception today; with the kiosk only without a card
            extra = t.handling_min - k.handling_min
            if t.visit.life_event is None:
                assert extra == pytest.approx(0.0, abs=1e-6)
            else:
                assert extra == pytest.approx(0.0 if not t.visit.has_card else 5.0, abs=1e-6)


def test_a_quarter_of_life_event_visitors_come_without_a_card():
    site = chuo()
    scenario = load_scenario(default_config_dir(), "ordinary")
    population = Population(scenario, site.rules, site.catalog)
    visits = [v for i in range(8) for v in population.day(seed=1, day_index=i, date=scenario.first_day)
              if v.life_event is not None]
    share = sum(not v.has_card for v in visits) / len(visits)
    assert 0.18 < share < 0.32
    assert all(v.request.has_card == v.has_card for v in visits)
