"""The resident's status page and feedback: found by token, no personal data, in their language."""

from __future__ import annotations

import datetime as dt

from tests.api.conftest import make_api
from tests.live import wait_until
from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_NAME

CARD = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": "1958-04-12", "sex": "2"}


def token_of(ticket) -> str:
    return ticket["status_url"].rsplit("/", 1)[1]


def test_status_page_follows_the_visit_in_its_language(api):
    ticket = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "language": "en",
                                                       "card": CARD}).json()
    token = token_of(ticket)
    page = api.client.get(f"/t/{token}")
    assert page.status_code == 200 and 'lang="en"' in page.text
    assert "You are next" in page.text and "Certificate of residence" in page.text
    assert "You will be called shortly" in page.text  # a free counter: no "about 0 min"
    assert TEST_HOLDER_NAME not in page.text and TEST_HOLDER_ADDRESS not in page.text
    api.post("/api/v1/counters/c1/call-next", "counter")
    assert "Please go to Counter 1" in api.client.get(f"/t/{token}").text
    japanese = api.client.get(f"/t/{token}?lang=ja").text
    assert "1番窓口 へ<wbr>お越しください" in japanese  # a line may break only between phrases (禁則)
    public = api.client.get(f"/api/v1/public/tickets/{token}").json()
    assert public["status"] == "called" and public["counter"] == "c1" and "id" not in public


def test_unknown_token_gets_a_kind_page_not_an_error(api):
    page = api.client.get("/t/nonexistent")
    assert page.status_code == 404 and "受付でお尋ねください" in page.text
    assert api.client.get("/api/v1/public/tickets/nonexistent").json()["code"] == "ticket_not_found"


def test_feedback_once_per_visit(api):
    ticket = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    token = token_of(ticket)
    for path in ("call-next", "start", "finish"):
        api.post(f"/api/v1/counters/c1/{path}", "counter")
    assert "満足度" in api.client.get(f"/t/{token}").text
    bad = api.client.post(f"/t/{token}/feedback", json={"rating": 9})
    assert bad.status_code == 422 and bad.json()["code"] == "feedback_invalid"
    form = api.client.post(f"/t/{token}/feedback", data={"rating": "5", "comment": "親切でした"},
                           follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"] == f"/t/{token}?thanks=1"
    again = api.client.post(f"/t/{token}/feedback", json={"rating": 4})
    assert again.status_code == 409 and again.json()["code"] == "feedback_twice"
    kpi = api.get("/api/v1/reports/kpi", "manager").json()
    assert kpi["satisfaction"] == {"responses": 1, "mean": 5.0, "distribution": {"1": 0, "2": 0, "3": 0, "4": 0,
                                                                                 "5": 1}}


def test_card_data_is_erased_at_day_end_even_if_nobody_acts(tmp_path):
    api = make_api(tmp_path)
    with api.client:
        api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "card": CARD})
        conn = api.services.store.conn
        assert conn.execute("SELECT count(*) FROM card_data").fetchone()[0] == 1
        api.clock.set(api.clock.now().replace(hour=0, minute=1) + dt.timedelta(days=1))
        api.services.start_day_keeper(interval_s=0.05)
        wait_until(lambda: conn.execute("SELECT count(*) FROM card_data").fetchone()[0] == 0, 5, "day-end erasure")
        status = conn.execute("SELECT status FROM tickets").fetchone()[0]
        assert status == "cancelled"
    api.services.close()
