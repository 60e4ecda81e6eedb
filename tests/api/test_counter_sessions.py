"""Issue 8.1: a counter session acts on its own counter only, and card data is an explicit, audited read."""

from __future__ import annotations

from tests.api.conftest import PASSWORD
from tests.personal_data import (
    TEST_HOLDER_ADDRESS,
    TEST_HOLDER_BIRTH_DATE,
    TEST_HOLDER_NAME,
    TEST_HOLDER_SEX,
    leaked_in,
)

CARD = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": TEST_HOLDER_BIRTH_DATE,
        "sex": TEST_HOLDER_SEX}


def sign_in(api, counter: str | None, username: str = "counter-user") -> dict[str, str]:
    data = {"username": username, "password": PASSWORD, **({"counter": counter} if counter else {})}
    response = api.client.post("/api/v1/auth/token", data=data)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def issue(api, **extra) -> dict:
    response = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_clerk_signed_in_at_c4_may_act_on_c4_only(api):
    at_c4 = sign_in(api, "c4")
    api.patch("/api/v1/counters/c4", "guide", json={"skills": ["simple"]})
    api.patch("/api/v1/counters/c5", "guide", json={"skills": ["simple"]})
    issue(api)
    issue(api)
    elsewhere = api.client.post("/api/v1/counters/c5/call-next", headers=at_c4)
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "counter_not_yours"
    assert "4番窓口" in elsewhere.json()["detail"] or "c4" in elsewhere.json()["detail"]
    assert api.services.office.counters["c5"].ticket_id is None, "nothing happened at c5"
    here = api.client.post("/api/v1/counters/c4/call-next", headers=at_c4)
    assert here.status_code == 200 and here.json()["ticket"] is not None


def test_a_counter_user_must_name_an_existing_counter_at_sign_in(api):
    missing = api.client.post("/api/v1/auth/token", data={"username": "counter-user", "password": PASSWORD})
    assert missing.status_code == 422 and missing.json()["code"] == "counter_required"
    unknown = api.client.post("/api/v1/auth/token",
                              data={"username": "counter-user", "password": PASSWORD, "counter": "c99"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "counter_unknown"


def test_guides_and_managers_act_through_their_own_endpoints_not_a_counters(api):
    issue(api, card=CARD)
    for role in ("guide", "manager", "admin"):  # admin unless it signed in at the counter
        refused = api.post("/api/v1/counters/c1/call-next", role)
        assert refused.status_code == 403, (role, refused.text)
    assert api.services.office.counters["c1"].ticket_id is None
    assert api.get("/api/v1/counters/c1/queue", "guide").status_code == 200, "reading the lists stays open"


def test_no_counter_action_answers_with_card_data(api):
    """Today's leak: recall on the serving counter, or hold there and call it at another counter."""
    ticket = issue(api, card=CARD)
    answers = [api.post("/api/v1/counters/c1/call-next", "counter"),
               api.post("/api/v1/counters/c1/recall", "counter"),
               api.post("/api/v1/counters/c1/hold", "counter"),
               api.post("/api/v1/counters/c2/call", "counter", json={"ticket_id": ticket["id"], "reason": "戻られた"}),
               api.post("/api/v1/counters/c2/start", "counter")]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert not leaked_in(answer.text), answer.request.url
    assert answers[-1].json()["ticket"]["has_card"] is True


def test_card_data_goes_only_to_the_session_at_the_serving_counter_and_each_read_is_audited(api):
    from madoguchi.server.storage.audit import card_reads

    ticket = issue(api, card=CARD)
    api.post("/api/v1/counters/c1/call-next", "counter")
    read = api.get("/api/v1/counters/c1/card", "counter")
    assert read.status_code == 200 and read.json()["card"] == CARD and read.json()["ticket_id"] == ticket["id"]
    assert read.headers["cache-control"] == "no-store"
    # another counter's clerk, a guide, a manager: refused, and nothing is logged for them
    assert api.get("/api/v1/counters/c1/card", "counter", headers={
        "Authorization": f"Bearer {api.counter_token('c2')}"}).status_code == 403
    for role in ("guide", "manager", "admin", "kiosk"):
        assert api.get("/api/v1/counters/c1/card", role).status_code == 403, role
    # the counter that has nobody (or a visit without card data) has nothing to show
    assert api.get("/api/v1/counters/c2/card", "counter").status_code == 404
    trail = card_reads(api.services.store.conn, ticket["id"])
    assert [(r.username, r.counter_id, r.ticket_id) for r in trail] == [("counter-user", "c1", ticket["id"])]
    assert trail[0].at == api.clock.now()
    dumped = "\n".join(map(str, api.services.store.conn.execute("SELECT * FROM card_reads")))
    assert not leaked_in(dumped), "the audit says who, which visit and when, never the data"
    # once the visit left the counter, the read is refused
    api.post("/api/v1/counters/c1/start", "counter")
    api.post("/api/v1/counters/c1/finish", "counter", json={"outcome": "done"})
    gone = api.get("/api/v1/counters/c1/card", "counter")
    assert gone.status_code == 404 and gone.json()["code"] == "card_not_here"
    assert len(card_reads(api.services.store.conn, ticket["id"])) == 1
