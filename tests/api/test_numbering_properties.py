"""Over random days of issuing, calling, wrapping and restarting (SIGKILL-like: the office is rebuilt
from the SQLite file alone), no number is ever open twice in a site, band and day."""

from __future__ import annotations

import datetime as dt
from collections import Counter

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


@settings(max_examples=40, print_blob=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operation, min_size=10, max_size=80))
def test_no_number_is_ever_open_twice_through_wraps_and_restarts(tmp_path_factory, ops):
    tmp_path = tmp_path_factory.mktemp("numbering")
    config = config_with_band_ranges(tmp_path, SMALL_RANGES)
    clock = ManualClock(MONDAY_9AM)
    settings_ = Settings(site="chuo", data_dir=tmp_path / "data", config_dir=config)
    services = build(settings_, clock=clock)
    issued: list[tuple[dt.date, str, int]] = []
    try:
        for op in ops:
            if op[0] == "issue":
                band = op[1]
                today = clock.now().date().isoformat()
                before = {n for (day, b, n) in open_numbers(services) if b == band and day == today}
                try:
                    ticket = services.execute(lambda office, now, tx, r=REQUESTS[band]: office.issue(r, now))
                except DomainError as exc:
                    lo, hi = SMALL_RANGES[band]
                    assert exc.code == "band_full" and len(before) == hi - lo + 1, "refused while numbers were free"
                    continue
                assert ticket.number not in before, f"{band} {ticket.number} issued while still open"
                lo, hi = SMALL_RANGES[band]
                assert lo <= ticket.number <= hi
                issued.append((ticket.service_day, band, ticket.number))
            elif op[0] == "serve":
                _, counter_id, ending = op

                def serve(office, now, tx, counter_id=counter_id, ending=ending):
                    ticket = office.call_next(counter_id, now)
                    if ticket is None:
                        return
                    if ending == "no_show":
                        office.no_show(counter_id, now)
                        return
                    office.start(counter_id, now)
                    while office.tickets[ticket.id].status is TicketStatus.SERVING:
                        office.finish(counter_id, Outcome.DONE, now)
                services.execute(serve)
            elif op[0] == "wait":
                clock.advance(minutes=op[1])
            elif op[0] == "next_day":
                clock.set(clock.now().replace(hour=9, minute=0) + dt.timedelta(days=1))
            else:  # restart: drop everything in memory, rebuild from the file
                services.close()
                services = build(settings_, clock=clock)
            assert max(open_numbers(services).values(), default=1) == 1
            in_memory = Counter((t.service_day.isoformat(), t.band, t.number) for t in services.office.tickets.values()
                                if t.is_open)
            assert in_memory == open_numbers(services), f"memory and database disagree after {op}"
    finally:
        services.close()
