"""Over random days of issuing, calling, wrapping and restarting (SIGKILL-like: the office is rebuilt
from the SQLite file alone), no number is ever open twice in a site, band and day.

The test keeps its own account of which numbers are open, from what the service answered (issued
numbers; visits that ended): a number answered while that account still holds it open is a repeat.
The database's unique index would refuse such a row anyway, so counting rows proves nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.server.composition import Settings, build
from madoguchi.server.core.errors import DomainError
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.ticket import OPEN_STATUSES, Outcome, TicketStatus
from madoguchi.server.service.clock import ManualClock
from tests.factories import MONDAY_9AM, config_with_band_ranges

SMALL_RANGES = {"simple": (1, 6), "onestop": (301, 305), "okuyami": (701, 703)}
REQUESTS = {
    "simple": IssueRequest(procedures=("juminhyo",)),
    "onestop": IssueRequest(life_event="tenshutsu"),
    "okuyami": IssueRequest(life_event="okuyami"),
}

operation = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(sorted(REQUESTS))),
    st.tuples(st.just("serve"), st.sampled_from(["c1", "c2", "c4", "c9"]), st.sampled_from(["done", "no_show"])),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=40)),
    st.just(("restart",)),
    st.just(("next_day",)),
)


def open_numbers(services) -> Counter:
    rows = services.store.conn.execute(
        "SELECT service_day, band, number FROM tickets WHERE status IN (?, ?, ?, ?)",
        tuple(s.value for s in OPEN_STATUSES)).fetchall()
    return Counter(rows)


MAX_STEPS = 20  # a visit has at most a handful of steps: finishing more often than this is a loop


@settings(max_examples=40, print_blob=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operation, min_size=10, max_size=80))
def test_no_number_is_ever_open_twice_through_wraps_and_restarts(tmp_path_factory, ops):
    tmp_path = tmp_path_factory.mktemp("numbering")
    config = config_with_band_ranges(tmp_path, SMALL_RANGES)
    clock = ManualClock(MONDAY_9AM)
    settings_ = Settings(site="chuo", data_dir=tmp_path / "data", config_dir=config)
    services = build(settings_, clock=clock)
    answered_open: dict[tuple[str, str], set[int]] = defaultdict(set)  # (day, band) → numbers, by the answers
    try:
        for op in ops:
            if op[0] == "issue":
                band = op[1]
                today = clock.now().date().isoformat()
                lo, hi = SMALL_RANGES[band]
                try:
                    ticket = services.execute(lambda office, now, tx, r=REQUESTS[band]: office.issue(r, now))
                except DomainError as exc:
                    assert exc.code == "band_full", exc.code
                    assert len(answered_open[(today, band)]) == hi - lo + 1, "refused while numbers were free"
                    continue
                key = (ticket.service_day.isoformat(), band)
                assert ticket.number not in answered_open[key], f"{band} {ticket.number} answered while still open"
                assert lo <= ticket.number <= hi
                answered_open[key].add(ticket.number)
            elif op[0] == "serve":
                _, counter_id, ending = op

                def serve(office, now, tx, counter_id=counter_id, ending=ending):
                    ticket = office.call_next(counter_id, now)
                    if ticket is None:
                        return None
                    if ending == "no_show":
                        office.no_show(counter_id, now)
                        return ticket
                    office.start(counter_id, now)
                    for _ in range(MAX_STEPS):
                        if office.tickets[ticket.id].status is not TicketStatus.SERVING:
                            return ticket
                        office.finish(counter_id, Outcome.DONE, now)
                    raise AssertionError(f"{ticket.display_number} still serving after {MAX_STEPS} finishes")
                served = services.execute(serve)
                if served is not None and not served.is_open:  # the visit ended: its number is free again
                    answered_open[(served.service_day.isoformat(), served.band)].discard(served.number)
            elif op[0] == "wait":
                clock.advance(minutes=op[1])
            elif op[0] == "next_day":
                clock.set(clock.now().replace(hour=9, minute=0) + dt.timedelta(days=1))
            else:  # restart: drop everything in memory, rebuild from the file
                services.close()
                services = build(settings_, clock=clock)
            in_memory = Counter((t.service_day.isoformat(), t.band, t.number) for t in services.office.tickets.values()
                                if t.is_open)
            assert in_memory == open_numbers(services), f"memory and database disagree after {op}"
            today = clock.now().date().isoformat()
            still_open = {(day, band, n) for (day, band), numbers in answered_open.items() for n in numbers
                          if day == today}
            assert {k for k in in_memory if k[0] == today} <= still_open, "open numbers nobody was answered"
    finally:
        services.close()
