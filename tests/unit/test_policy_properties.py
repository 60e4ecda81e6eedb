"""Properties of the balancing policy over random days (hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.office import Office
from madoguchi.server.core.ticket import Outcome, Priority, TicketStatus
from tests.factories import MONDAY_9AM, CountingIds, chuo

CREDIT_MIN = 10.0
BAND_REQUESTS = {
    "simple": IssueRequest(procedures=("juminhyo",)),
    "onestop": IssueRequest(life_event="tenshutsu"),
    "okuyami": IssueRequest(life_event="okuyami", answers={}),
}

arrival = st.tuples(
    st.sampled_from(sorted(BAND_REQUESTS)),
    st.floats(min_value=0, max_value=6),  # minutes since the previous event
    st.booleans(),  # priority flag (used where the test wants it)
)
call = st.tuples(st.just("call"), st.sampled_from(["c1", "c2", "c3"]), st.floats(min_value=0, max_value=4))
day = st.lists(st.one_of(arrival, call), min_size=5, max_size=120)


def office_with_general_counters() -> Office:
    """Three counters that serve every band, the rest closed: bands compete for them."""
    loaded = chuo()
    office = Office(loaded.rules, loaded.catalog, CountingIds())
    for counter in office.counters.values():
        counter.state = CounterState.CLOSED
    for cid in ("c1", "c2", "c3"):
        office.counters[cid].state = CounterState.OPEN
        office.counters[cid].skills = frozenset({"simple", "onestop", "okuyami"})
    return office


MAX_STEPS = 20  # more finishes than any visit has steps: the counter never freed


def serve_and_free(office: Office, counter_id: str, now: dt.datetime) -> None:
    counter = office.counters[counter_id]
    for _ in range(MAX_STEPS):
        if counter.ticket_id is None:
            return
        ticket = office.tickets[counter.ticket_id]
        if ticket.status is TicketStatus.CALLED:
            office.start(counter_id, now)
        office.finish(counter_id, Outcome.DONE, now)
    raise AssertionError(f"{counter_id} still busy after {MAX_STEPS} finishes")


def replay(ops, with_priority: bool, check) -> None:
    office = office_with_general_counters()
    now = MONDAY_9AM
    for op in ops:
        if op[0] == "call":
            _, counter_id, gap = op
            now += dt.timedelta(minutes=gap)
            serve_and_free(office, counter_id, now)
            waiting_before = office.waiting()
            chosen = office.call_next(counter_id, now)
            if chosen is not None:
                check(office, chosen, waiting_before, now)
        else:
            band, gap, flagged = op
            now += dt.timedelta(minutes=gap)
            request = BAND_REQUESTS[band]
            if with_priority and flagged:
                request = dataclasses.replace(request, priority=frozenset({Priority.WHEELCHAIR}))
            office.issue(request, now)
        office.take_changes()


@settings(max_examples=150, deadline=None)
@given(day)
def test_fifo_within_a_band_and_priority_overtakes_by_at_most_the_credit(ops):
    def check(office, chosen, waiting_before, now):
        for other in waiting_before:
            if other.band != chosen.band or other.id == chosen.id:
                continue
            overtaken_by = (other.issued_at - chosen.issued_at).total_seconds() / 60
            if overtaken_by >= 0:
                continue  # chosen was there first: plain FIFO
            assert chosen.priority and not other.priority, "FIFO broken without a priority flag"
            assert -overtaken_by <= CREDIT_MIN + 1e-9, f"priority overtook by {-overtaken_by:.1f} min"
    replay(ops, with_priority=True, check=check)


@settings(max_examples=150, deadline=None)
@given(day)
def test_the_band_furthest_behind_its_target_is_served_first(ops):
    """Behind = (head's wait + aging × the band's time without a call) / target, per DESIGN §3."""
    last_call: dict[str, dt.datetime] = {}

    def check(office, chosen, waiting_before, now):
        aging = office.site.policy.aging_factor

        def behind(ticket):
            waited = (now - ticket.issued_at).total_seconds() / 60
            unserved_from = max(last_call.get(ticket.band, ticket.issued_at), ticket.issued_at)
            unserved = (now - unserved_from).total_seconds() / 60
            return (waited + aging * unserved) / office.bands[ticket.band].target_wait_min
        heads = {}
        for ticket in waiting_before:
            if ticket.band not in heads or ticket.issued_at < heads[ticket.band].issued_at:
                heads[ticket.band] = ticket
        served = behind(chosen)
        for band, head in heads.items():
            assert behind(head) <= served + 1e-9, (
                f"{chosen.band} served at {served:.2f} while {band} was {behind(head):.2f} behind")
        last_call[chosen.band] = now
    replay(ops, with_priority=False, check=check)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=1.3, max_value=4.0), st.floats(min_value=10, max_value=60),
       st.floats(min_value=3, max_value=8))
def test_a_flooded_band_never_starves_the_others(overload, bereaved_at_min, service_min):
    """Simple visits pour in ``overload`` times faster than three counters serve; a bereaved family arrives.

    It must not wait behind the whole flood: its wait, relative to its target, is a fraction
    1 / (1 + aging) of the flood head's, within one service.
    """
    office = office_with_general_counters()
    flood_per_min = overload * 3 / service_min
    start = MONDAY_9AM
    arrivals = [start + dt.timedelta(minutes=i / flood_per_min) for i in range(int(150 * flood_per_min))]
    bereaved_time = start + dt.timedelta(minutes=bereaved_at_min)
    bereaved = None
    now = start
    next_free = {cid: start for cid in ("c1", "c2", "c3")}
    while bereaved is None or bereaved.status is TicketStatus.WAITING:
        now = min(next_free.values())
        while arrivals and arrivals[0] <= now:
            office.issue(BAND_REQUESTS["simple"], arrivals.pop(0))
        if bereaved is None and bereaved_time <= now:
            bereaved = office.issue(BAND_REQUESTS["okuyami"], bereaved_time)
        counter_id = min(next_free, key=next_free.get)
        serve_and_free(office, counter_id, now)
        office.call_next(counter_id, now)
        next_free[counter_id] = now + dt.timedelta(minutes=service_min)
        assert now < start + dt.timedelta(hours=8), "the bereaved family was never called"
    called_at = bereaved.first_called_at
    head = min(t.issued_at for t in office.waiting() if t.band == "simple")
    targets = {b: office.bands[b].target_wait_min for b in ("simple", "okuyami")}
    aging = office.site.policy.aging_factor
    bereaved_ratio = (called_at - bereaved.issued_at).total_seconds() / 60 / targets["okuyami"]
    flood_ratio = (called_at - head).total_seconds() / 60 / targets["simple"]
    # a band without any call ages (1 + aging) times as fast: the family waits a fraction of the flood's head
    assert bereaved_ratio <= (flood_ratio + aging * service_min / targets["simple"]) / (1 + aging) \
        + service_min / targets["okuyami"]


def test_a_counter_with_slack_helps_the_band_behind_and_goes_back_when_its_own_falls_behind():
    """The floor guide's suggestions: help keeps the counter's own band; return restores the site's skills."""
    from tests.factories import JUMINHYO, minutes, office

    o = office()
    now = MONDAY_9AM
    for i in range(40):  # the simple band floods; the one-stop counters have nobody
        o.issue(JUMINHYO, now + minutes(i / 20))
    later = now + minutes(3)
    help_ = next(s for s in o.suggestions(later) if s.to_band == "simple")
    assert not help_.returning and help_.from_band == "onestop"
    assert {"onestop", "simple"} <= set(help_.new_skills)  # it keeps its own band
    assert help_.after["simple"].minutes < help_.before["simple"].minutes
    counter = o.accept_suggestion(help_.id, later)
    assert counter.skills == frozenset(help_.new_skills)
    # now the one-stop band falls behind: the helping counter is proposed to go back home first
    for i in range(30):
        o.issue(IssueRequest(life_event="tennyu", answers={"household": [{"age": 30, "relation": "self"}]}),
                later + minutes(i / 20))
    back = next(s for s in o.suggestions(later + minutes(2)) if s.counter_id == counter.id)
    assert back.returning and back.to_band == "onestop"
    assert set(back.new_skills) == {"onestop"}
    o.take_changes()


def test_a_finished_step_is_handed_on_only_while_someone_waits_for_the_counter():
    from madoguchi.server.core.policy import BalancedPolicy, Candidate

    loaded = chuo()
    policy = BalancedPolicy.for_site({b.id: b for b in loaded.rules.bands}, loaded.rules.policy)
    office = Office(loaded.rules, loaded.catalog, CountingIds())
    one_stop, department = office.counters["c4"], office.counters["c12"]
    following = Candidate("t1", "onestop", "jidou_teate", MONDAY_9AM, MONDAY_9AM, continuing=True)
    other = Candidate("t2", "onestop", "tennyu_todoke", MONDAY_9AM, MONDAY_9AM)
    assert policy.hand_on(one_stop, following, [department], [other])
    assert not policy.hand_on(one_stop, following, [department], [])  # nobody waits: the resident stays seated
    assert not policy.hand_on(one_stop, following, [], [other])  # no free counter can do the step
    assert not policy.hand_on(one_stop, following, [office.counters["c10"]], [other])  # 福祉課 cannot
