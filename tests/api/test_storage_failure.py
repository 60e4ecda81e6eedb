"""When the disk refuses a write, the caller hears it (503), nothing half-done remains, work goes on."""

from __future__ import annotations

import threading

import pytest

from tests.live import wait_until

REFUSE_CALLS = ("CREATE TRIGGER refuse_calls BEFORE INSERT ON events WHEN NEW.kind = 'called' "
                "BEGIN SELECT RAISE(ABORT, 'disk refused the write'); END")


@pytest.mark.allow_error_logs
def test_a_refused_commit_answers_503_undoes_the_call_and_the_office_carries_on(api):
    ticket = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    conn = api.services.store.conn
    conn.execute(REFUSE_CALLS)

    refused = api.post("/api/v1/counters/c1/call-next", "counter")
    assert refused.status_code == 503 and refused.json()["code"] == "storage_unavailable"
    assert refused.headers["Retry-After"] == "2"
    # nothing of the call remains, in memory or on disk: the ticket waits as before
    assert api.services.office.tickets[ticket["id"]].status.value == "waiting"
    assert api.services.office.counters["c1"].ticket_id is None
    assert conn.execute("SELECT status FROM tickets WHERE id = ?", (ticket["id"],)).fetchone()[0] == "waiting"
    public = api.client.get(ticket["status_url"].replace("http://madoguchi.test/t/", "/api/v1/public/tickets/"))
    assert public.json()["status"] == "waiting"

    # a command that changes nothing (the day keeper's) does not wait for the lost commit: it goes
    # through at once, even before the disk takes writes again
    api.services.execute(lambda office, now, tx: None)
    assert api.get("/api/v1/state", "display").status_code == 200

    conn.execute("DROP TRIGGER refuse_calls")
    called = api.post("/api/v1/counters/c1/call-next", "counter").json()["ticket"]
    assert called["id"] == ticket["id"], "the same visit is called once the disk takes writes again"
    later = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    assert later["number"] == ticket["number"] + 1, "numbering went on without a gap or a repeat"


@pytest.mark.allow_error_logs
def test_a_command_that_breaks_halfway_leaves_nothing_behind(api):
    from madoguchi.server.core.issuing import IssueRequest

    first = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()

    def broken(office, now, tx):
        office.issue(IssueRequest(procedures=("juminhyo",)), now)  # changes the office…
        raise RuntimeError("a bug")  # …then fails before anyone could be answered

    with pytest.raises(RuntimeError):
        api.services.execute(broken)
    numbers = sorted(t.number for t in api.services.office.tickets.values())
    assert numbers == [first["number"]], "the half-done issue is gone from memory"
    assert api.services.store.conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 1
    after = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    assert after["number"] == first["number"] + 1, "its number was never taken"


@pytest.mark.allow_error_logs
def test_a_broken_command_reloads_only_after_the_batch_being_written_is_on_disk(api):
    """A ticket committed (and answered 201) while another command broke is in the office read back."""
    from madoguchi.server.core.issuing import IssueRequest
    from tests.api.test_refusals import database_held, kiosk_ticket

    def broken(office, now, tx):
        office.issue(IssueRequest(procedures=("juminhyo",)), now)
        raise RuntimeError("a bug")

    outcome: list[BaseException] = []

    def run_broken() -> None:
        try:
            api.services.execute(broken)
        except BaseException as exc:
            outcome.append(exc)

    writer = api.services._writer
    with database_held(api):
        (in_flight, _), committed = kiosk_ticket(api, {"procedures": ["juminhyo"]}, "in-flight")
        thread = threading.Thread(target=run_broken, name="broken-command")
        thread.start()
        # the broken command waits for the writer before reloading (before the fix it reloaded at once)
        wait_until(lambda: getattr(writer, "draining", 0) or not thread.is_alive(), 10, "the broken command's reload")
    thread.join(10)
    assert not thread.is_alive() and isinstance(outcome[0], RuntimeError)
    committed.result(10)
    assert in_flight.id in api.services.office.tickets, "a committed ticket is missing after the reload"
    assert [t.number for t in api.services.office.tickets.values()] == [in_flight.number]
    replay = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]},
                      headers={"Idempotency-Key": "in-flight"})
    assert replay.status_code == 200 and replay.json()["id"] == in_flight.id
