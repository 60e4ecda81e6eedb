"""Staff at the counters: call, start, finish, and the card data only where it belongs."""

from __future__ import annotations

from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_BIRTH_DATE, TEST_HOLDER_NAME, TEST_HOLDER_SEX

CARD = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": TEST_HOLDER_BIRTH_DATE,
        "sex": TEST_HOLDER_SEX}


def issue(api, body):
    response = api.post("/api/v1/tickets", "kiosk", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_call_next_with_nobody_waiting_answers_null(api):
    body = api.post("/api/v1/counters/c1/call-next", "counter").json()
    assert body["ticket"] is None and body["counter"]["id"] == "c1" and body["counter"]["serving"] is None


def test_counter_sees_card_data_only_while_serving_the_visit(api):
    ticket = issue(api, {"procedures": ["juminhyo"], "card": CARD})
    called = api.post("/api/v1/counters/c1/call-next", "counter")
    assert called.json()["ticket"]["id"] == ticket["id"] and called.json()["ticket"]["has_card"]
    assert TEST_HOLDER_NAME not in called.text, "card data is an explicit read, never a side effect"
    assert api.get("/api/v1/counters/c1/card", "counter").json()["card"] == CARD
    # another counter looking at its queue never sees it
    queue = api.get("/api/v1/counters/c2/queue", "counter")
    assert queue.status_code == 200 and TEST_HOLDER_NAME not in queue.text
    api.post("/api/v1/counters/c1/start", "counter")
    done = api.post("/api/v1/counters/c1/finish", "counter", json={"outcome": "done"}).json()
    assert done["ticket"]["status"] == "done"
    assert api.get("/api/v1/counters/c1/card", "counter").status_code == 404
    rows = api.services.store.conn.execute("SELECT count(*) FROM card_data").fetchone()[0]
    assert rows == 0, "card data must be erased when the visit ends"


def test_finishing_before_starting_is_a_conflict_with_a_clear_message(api):
    issue(api, {"procedures": ["juminhyo"]})
    api.post("/api/v1/counters/c1/call-next", "counter")
    response = api.post("/api/v1/counters/c1/finish", "counter", json={"outcome": "done"})
    assert response.status_code == 409 and response.json()["code"] == "ticket_wrong_state"


def test_calling_while_busy_or_closed_is_refused(api):
    issue(api, {"procedures": ["juminhyo"]})
    issue(api, {"procedures": ["juminhyo"]})
    api.post("/api/v1/counters/c1/call-next", "counter")
    assert api.post("/api/v1/counters/c1/call-next", "counter").json()["code"] == "counter_busy"
    api.patch("/api/v1/counters/c2", "guide", json={"state": "closed"})
    assert api.post("/api/v1/counters/c2/call-next", "counter").json()["code"] == "counter_not_open"


def test_two_counters_never_get_the_same_ticket(api):
    issue(api, {"procedures": ["juminhyo"]})
    first = api.post("/api/v1/counters/c1/call-next", "counter").json()["ticket"]
    second = api.post("/api/v1/counters/c2/call-next", "counter").json()["ticket"]
    assert first is not None and second is None


def test_guide_moves_a_counter_between_bands_and_flags_priority(api):
    a = issue(api, {"procedures": ["juminhyo"]})
    b = issue(api, {"procedures": ["juminhyo"]})
    patched = api.patch(f"/api/v1/tickets/{b['id']}", "guide", json={"priority": ["wheelchair"]})
    assert patched.status_code == 200 and patched.json()["priority"] == ["wheelchair"]
    called = api.post("/api/v1/counters/c1/call-next", "counter").json()["ticket"]
    assert called["id"] == b["id"], "a wheelchair user issued within the credit goes first"
    moved = api.patch("/api/v1/counters/c4", "guide", json={"skills": ["simple"]}).json()
    assert moved["skills"] == ["simple"]
    assert api.post("/api/v1/counters/c4/call-next", "counter").json()["ticket"]["id"] == a["id"]
    bad = api.patch("/api/v1/counters/c4", "guide", json={"skills": ["knitting"]})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_skill"


def test_out_of_order_call_needs_a_reason(api):
    issue(api, {"procedures": ["juminhyo"]})
    late = issue(api, {"procedures": ["juminhyo"]})
    missing = api.post("/api/v1/counters/c1/call", "counter", json={"ticket_id": late["id"], "reason": " "})
    assert missing.status_code == 422 and missing.json()["code"] == "reason_required"
    ok = api.post("/api/v1/counters/c1/call", "counter", json={"ticket_id": late["id"], "reason": "通訳の方が到着"})
    assert ok.json()["ticket"]["id"] == late["id"]


def test_state_shows_calls_and_waiting_without_personal_data(api):
    issue(api, {"procedures": ["juminhyo"], "card": CARD})
    issue(api, {"procedures": ["juminhyo"]})
    api.post("/api/v1/counters/c1/call-next", "counter")
    state = api.get("/api/v1/state", "display")
    assert state.status_code == 200
    body = state.json()
    assert body["v"] == 1 and body["site"] == "chuo" and body["seq"] > 0
    simple = next(b for b in body["bands"] if b["id"] == "simple")
    assert simple["waiting"] == 1 and simple["last_called"] == "1"
    assert body["recent_calls"][0]["counter_label"]["ja"] == "1番窓口"
    assert TEST_HOLDER_NAME not in state.text and TEST_HOLDER_ADDRESS not in state.text
