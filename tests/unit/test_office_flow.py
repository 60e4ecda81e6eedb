"""One ticket through a whole visit, as staff and residents would see it."""

from __future__ import annotations

import pytest

from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.errors import DomainError, ErrorKind
from madoguchi.server.core.events import EventKind
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.ticket import Outcome, TicketStatus
from tests.factories import JUMINHYO, MONDAY_9AM, OKUYAMI, TENNYU_FAMILY, minutes, office


def only_open(o, *counter_ids: str) -> None:
    for cid in o.counters:
        o.update_counter(cid, MONDAY_9AM, state=CounterState.OPEN if cid in counter_ids else CounterState.CLOSED)
    o.take_changes()


def test_tennyu_family_with_child_and_70_year_old_gets_the_related_procedures():
    o = office()
    ticket = o.issue(TENNYU_FAMILY, MONDAY_9AM)
    plan = [s.procedure for s in ticket.steps]
    assert plan[0] == "tennyu_todoke"
    for procedure in ("tennyugaku", "jidou_teate", "kodomo_iryo", "kaigo"):
        assert procedure in plan
    assert "kouki" not in plan  # nobody is 75 or over
    assert ticket.band == "onestop" and ticket.number == 301


def test_numbers_follow_each_band_separately():
    o = office()
    assert [o.issue(JUMINHYO, MONDAY_9AM).number for _ in range(3)] == [1, 2, 3]
    assert o.issue(OKUYAMI, MONDAY_9AM).number == 701
    assert o.issue(TENNYU_FAMILY, MONDAY_9AM).number == 301


def test_one_ticket_goes_from_counter_to_counter_without_queueing_again():
    o = office()
    only_open(o, "c10", "c12")  # 福祉課 and 保健子ども課 only, so each step needs its own counter
    o.update_counter("c4", MONDAY_9AM, state=CounterState.OPEN)
    visit = o.issue(TENNYU_FAMILY, MONDAY_9AM)
    later = o.issue(TENNYU_FAMILY, MONDAY_9AM + minutes(1))
    now = MONDAY_9AM + minutes(2)
    assert o.call_next("c4", now) is visit
    o.start("c4", now)
    # c4 is a one-stop counter: every 区民課 step continues there at once
    o.finish("c4", Outcome.DONE, now + minutes(10))
    assert visit.status is TicketStatus.SERVING and visit.counter_id == "c4"
    o.update_counter("c12", now, state=CounterState.PAUSED)  # no department counter free: c4 carries on
    o.update_counter("c10", now, state=CounterState.PAUSED)
    for _ in visit.steps:  # bounded: one finish per step at most
        if visit.procedure in ("kaigo", "jidou_teate", "kodomo_iryo"):
            break
        o.finish("c4", Outcome.DONE, now + minutes(12))
    else:
        pytest.fail(f"no 福祉課/保健子ども課 step reached at c4: {visit.status}, {visit.procedure}")
    # c4 has the onestop skill, so it goes on with 福祉課/保健子ども課 steps as well
    assert visit.counter_id == "c4"
    o.update_counter("c12", now, state=CounterState.OPEN)
    o.update_counter("c10", now, state=CounterState.OPEN)
    o.update_counter("c4", now, skills=["tennyu_todoke", "tennyugaku", "mynumber_card"])
    o.finish("c4", Outcome.DONE, now + minutes(15))
    assert visit.status is TicketStatus.WAITING
    # the continuing visit is ahead of the later one: it keeps its place from issue time
    o.update_counter("c12", now, skills=["jidou_teate", "kodomo_iryo", "kaigo", "tennyu_todoke"])
    assert o.call_next("c12", now + minutes(16)) is visit
    assert later.status is TicketStatus.WAITING


def test_a_one_stop_counter_hands_a_department_step_to_a_free_department_counter_when_others_wait():
    o = office()
    only_open(o, "c4", "c10", "c12")
    visit = o.issue(TENNYU_FAMILY, MONDAY_9AM)
    later = o.issue(TENNYU_FAMILY, MONDAY_9AM + minutes(1))
    now = MONDAY_9AM + minutes(2)
    assert o.call_next("c4", now) is visit
    o.start("c4", now)
    for _ in visit.steps:  # bounded: one finish per step at most
        o.finish("c4", Outcome.DONE, now + minutes(10))
        if visit.status is not TicketStatus.SERVING:
            break
        assert visit.counter_id == "c4"  # the 区民課 steps continue at the one-stop counter
    else:
        pytest.fail("the visit never left c4")
    # its next step is a department's, a department counter is free and someone waits for c4: handed on
    assert visit.status is TicketStatus.CALLED
    assert visit.counter_id == ("c10" if visit.procedure == "kaigo" else "c12")
    assert o.call_next("c4", now + minutes(11)) is later
    o.take_changes()


def test_a_counter_with_a_called_ticket_cannot_call_another():
    o = office()
    o.issue(JUMINHYO, MONDAY_9AM)
    o.issue(JUMINHYO, MONDAY_9AM)
    o.call_next("c1", MONDAY_9AM)
    with pytest.raises(DomainError) as err:
        o.call_next("c1", MONDAY_9AM)
    assert err.value.code == "counter_busy" and err.value.kind is ErrorKind.CONFLICT


def test_nobody_waiting_for_the_counters_skills_gives_none():
    o = office()
    o.issue(OKUYAMI, MONDAY_9AM)
    assert o.call_next("c1", MONDAY_9AM) is None  # simple counter cannot serve おくやみ


def test_no_show_frees_the_counter_and_ends_the_visit():
    o = office()
    t = o.issue(JUMINHYO, MONDAY_9AM)
    o.call_next("c1", MONDAY_9AM)
    o.recall("c1", MONDAY_9AM + minutes(2))
    o.no_show("c1", MONDAY_9AM + minutes(5))
    assert t.status is TicketStatus.NO_SHOW and o.counters["c1"].ticket_id is None
    kinds = [e.kind for e in o.take_changes().events]
    assert kinds == [EventKind.ISSUED, EventKind.CALLED, EventKind.RECALLED, EventKind.NO_SHOW]


def test_held_visit_is_called_back_out_of_order_with_a_reason():
    o = office()
    t = o.issue(JUMINHYO, MONDAY_9AM)
    o.issue(JUMINHYO, MONDAY_9AM)
    o.call_next("c1", MONDAY_9AM)
    o.start("c1", MONDAY_9AM)
    o.hold("c1", MONDAY_9AM + minutes(1))
    assert t.status is TicketStatus.HELD
    with pytest.raises(DomainError):
        o.call("c1", t.id, "  ", MONDAY_9AM + minutes(5))
    o.call("c1", t.id, "書類を持って戻った", MONDAY_9AM + minutes(5))
    assert t.status is TicketStatus.CALLED
    called = [e for e in o.take_changes().events if e.kind is EventKind.CALLED]
    assert called[-1].data["reason"] == "書類を持って戻った"


def test_outside_reception_hours_tickets_are_refused_unless_hours_are_ignored():
    evening = MONDAY_9AM.replace(hour=18)
    with pytest.raises(DomainError) as err:
        office().issue(JUMINHYO, evening)
    assert err.value.code == "outside_reception_hours"
    assert office(enforce_hours=False).issue(JUMINHYO, evening).number == 1


def test_wave_two_site_refuses_before_its_service_starts():
    with pytest.raises(DomainError) as err:
        office("takuma").issue(JUMINHYO, MONDAY_9AM)
    assert err.value.code == "site_not_open_yet"


def test_life_events_of_2027_are_refused_before_then():
    with pytest.raises(DomainError) as err:
        office().issue(IssueRequest(life_event="shussei"), MONDAY_9AM)
    assert err.value.code == "life_event_not_yet_available"


@pytest.mark.parametrize("answers, code", [
    ({"household": [{"age": -1}]}, "household_age_invalid"),
    ({"household": [{"age": 8, "relation": "cousin"}]}, "household_relation_invalid"),
    ({"household": "three people"}, "household_not_a_list"),
    ({"kokuho": "yes"}, "answer_not_bool"),
    ({"favourite_colour": True}, "unknown_answer"),
])
def test_bad_answers_are_refused_with_a_code_and_nothing_is_issued(answers, code):
    o = office()
    with pytest.raises(DomainError) as err:
        o.issue(IssueRequest(life_event="tennyu", answers=answers), MONDAY_9AM)
    assert err.value.code == code and err.value.kind is ErrorKind.INVALID
    assert o.tickets == {} and o.take_changes().events == []


def test_day_rollover_cancels_open_visits_and_restarts_numbering():
    o = office()
    t = o.issue(JUMINHYO, MONDAY_9AM)
    tomorrow = MONDAY_9AM + minutes(24 * 60)
    assert o.issue(JUMINHYO, tomorrow).number == 1
    assert t.status is TicketStatus.CANCELLED
