"""A refusal is not a failure (issue 8.3): no request can make the writer reload the office.

A kiosk that reuses an idempotency key with another body is refused (422) and nothing else happens:
tickets of other kiosks being written at that moment are committed, answered and stay in the live
queue; their replays answer; no-change commands go on working. Keys are scoped per device, and a
replay with other card data is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator

from madoguchi.server.api import schemas
from madoguchi.server.api.kiosk import _prepare
from madoguchi.server.storage.accounts import DeviceKind
from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_BIRTH_DATE, TEST_HOLDER_NAME, TEST_HOLDER_SEX

JUMINHYO = {"procedures": ["juminhyo"]}
TENSHUTSU = {"life_event": "tenshutsu", "answers": {}}
CARD = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": TEST_HOLDER_BIRTH_DATE,
        "sex": TEST_HOLDER_SEX}


@contextlib.contextmanager
def database_held(api) -> Iterator[None]:
    """Another connection holds the write lock: the writer's next commit waits (busy timeout) until
    the block ends, so commands applied meanwhile are queued or in flight, not yet on disk."""
    other = sqlite3.connect(api.services.settings.database_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def kiosk_ticket(api, body: dict, key: str, caller: str = "kiosk-1"):
    """Apply a kiosk's issue command now; the future completes when it is on disk."""
    return api.services.apply(_prepare(api.services, schemas.TicketIn.model_validate(body), key, False, caller))


def test_a_reused_key_is_refused_without_touching_tickets_being_written(api):
    first = api.post("/api/v1/tickets", "kiosk", json=JUMINHYO, headers={"Idempotency-Key": "k"})
    assert first.status_code == 201
    office = api.services.office
    with database_held(api):
        (in_flight, _), committed = kiosk_ticket(api, TENSHUTSU, "another-kiosk-visit")
        assert committed is not None
        refused = api.post("/api/v1/tickets", "kiosk", json=TENSHUTSU, headers={"Idempotency-Key": "k"})
        assert refused.status_code == 422 and refused.json()["code"] == "idempotency_key_reused"
    committed.result(10)  # the other kiosk's ticket is committed and would be answered 201

    assert api.services.office is office, "a refusal reloaded the office"
    assert in_flight.id in api.services.office.tickets, "a ticket answered 201 is missing from the live queue"
    state = api.get("/api/v1/state", "display").json()
    assert sum(b["waiting"] for b in state["bands"]) == 2
    replay = api.post("/api/v1/tickets", "kiosk", json=TENSHUTSU, headers={"Idempotency-Key": "another-kiosk-visit"})
    assert replay.status_code == 200 and replay.json()["id"] == in_flight.id
    assert replay.json()["position"] == 1
    api.services.execute(lambda office, now, tx: None)  # what the day keeper does every 30 s
    after = api.post("/api/v1/tickets", "kiosk", json=JUMINHYO)
    assert after.status_code == 201 and after.json()["number"] == first.json()["number"] + 1


def test_a_refusal_never_fails_other_kiosks_queued_behind_the_same_commit(api):
    api.post("/api/v1/tickets", "kiosk", json=JUMINHYO, headers={"Idempotency-Key": "k"})
    with database_held(api):
        queued = [kiosk_ticket(api, JUMINHYO, f"queued-{i}") for i in range(5)]
        refused = api.post("/api/v1/tickets", "kiosk", json=TENSHUTSU, headers={"Idempotency-Key": "k"})
        assert refused.status_code == 422
    for (ticket, _), committed in queued:
        assert committed is not None
        committed.result(10)  # before the fix: Poisoned (their kiosks heard 503)
        assert ticket.id in api.services.office.tickets
    numbers = sorted(t.number for t in api.services.office.tickets.values())
    assert numbers == list(range(numbers[0], numbers[0] + 6))


def test_idempotency_keys_are_scoped_per_device(api):
    api.tokens["kiosk-2"] = api.services.accounts.add_device("kiosk-2", DeviceKind.KIOSK, api.clock.now())
    one = api.post("/api/v1/tickets", "kiosk", json=JUMINHYO, headers={"Idempotency-Key": "visit-1"})
    two = api.post("/api/v1/tickets", "kiosk-2", json=JUMINHYO, headers={"Idempotency-Key": "visit-1"})
    assert one.status_code == 201 and two.status_code == 201, two.text
    assert one.json()["id"] != two.json()["id"]
    other_body = api.post("/api/v1/tickets", "kiosk-2", json=TENSHUTSU, headers={"Idempotency-Key": "visit-1"})
    assert other_body.status_code == 422, "kiosk-2's own key still guards its own request"
    again = api.post("/api/v1/tickets", "kiosk", json=JUMINHYO, headers={"Idempotency-Key": "visit-1"})
    assert again.status_code == 200 and again.json()["id"] == one.json()["id"]


def test_a_replay_with_other_card_data_is_refused_and_no_card_digest_can_be_matched(api):
    body = {**JUMINHYO, "card": CARD}
    first = api.post("/api/v1/tickets", "kiosk", json=body, headers={"Idempotency-Key": "card-visit"})
    same = api.post("/api/v1/tickets", "kiosk", json=body, headers={"Idempotency-Key": "card-visit"})
    assert first.status_code == 201 and same.status_code == 200 and same.json()["id"] == first.json()["id"]
    someone_else = {**JUMINHYO, "card": {**CARD, "name": "加藤　清正"}}
    other = api.post("/api/v1/tickets", "kiosk", json=someone_else, headers={"Idempotency-Key": "card-visit"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert len(api.services.office.tickets) == 1

    (stored,) = api.services.store.conn.execute("SELECT request_hash FROM idempotency").fetchall()
    # the stored digest is keyed with the site key: the same request with the same card, hashed
    # without the key (what an attacker holding a copy of the database could try), does not match it
    import hashlib
    import json
    unkeyed = hashlib.sha256(json.dumps(CARD, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    assert unkeyed not in stored[0] and TEST_HOLDER_NAME not in stored[0]


def test_a_replay_of_an_earlier_days_ticket_answers_from_the_database(api):
    first = api.post("/api/v1/tickets", "kiosk", json=JUMINHYO, headers={"Idempotency-Key": "yesterday"})
    assert first.status_code == 201
    api.clock.advance(minutes=24 * 60)
    api.services.execute(lambda office, now, tx: None)  # the day keeper rolls the day over
    assert first.json()["id"] not in api.services.office.tickets
    replay = api.post("/api/v1/tickets", "kiosk", json=JUMINHYO, headers={"Idempotency-Key": "yesterday"})
    assert replay.status_code == 200, replay.text
    assert replay.json()["id"] == first.json()["id"] and replay.json()["status"] == "cancelled"
    assert replay.json()["position"] == 0
    assert dt.datetime.fromisoformat(replay.json()["issued_at"]) == dt.datetime.fromisoformat(first.json()["issued_at"])
