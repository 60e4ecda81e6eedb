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


def serve_to_the_end(api, counter: str) -> None:
    assert api.post(f"/api/v1/counters/{counter}/call-next", "counter").json()["ticket"] is not None
    api.post(f"/api/v1/counters/{counter}/start", "counter")
    for _ in range(10):  # bounded: a plan has a few steps, each continued here
        answer = api.post(f"/api/v1/counters/{counter}/finish", "counter", json={"outcome": "done"}).json()
        if answer["ticket"]["status"] == "done":
            return
    raise AssertionError("the visit did not end")


def test_status_page_and_its_json_are_locked_down_for_a_phone_browser(api):
    ticket = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    page = api.client.get(f"/t/{token_of(ticket)}")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page.text and f'<style nonce="{nonce}">' in page.text
    assert api.client.get(f"/t/{token_of(ticket)}").headers["content-security-policy"] != policy, "a nonce per answer"
    for answer in (page, api.client.get(f"/api/v1/public/tickets/{token_of(ticket)}"), api.client.get("/t/unknown")):
        assert answer.headers["referrer-policy"] == "no-referrer", answer.url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"


def test_the_status_token_expires_after_its_day_and_the_feedback_window(api):
    ticket = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    token = token_of(ticket)
    serve_to_the_end(api, "c1")
    day_end = api.clock.now().replace(hour=0, minute=0) + dt.timedelta(days=1)
    api.clock.set(day_end + dt.timedelta(days=2, hours=23))  # the window is 3 days: still there
    assert api.client.get(f"/t/{token}").status_code == 200
    assert api.client.post(f"/t/{token}/feedback", json={"rating": 4}).status_code == 201
    api.clock.set(day_end + dt.timedelta(days=3, minutes=1))
    page = api.client.get(f"/t/{token}")
    assert page.status_code == 404 and "受付でお尋ねください" in page.text
    assert api.client.get(f"/api/v1/public/tickets/{token}").status_code == 404
    assert api.client.post(f"/t/{token}/feedback", json={"rating": 1}).status_code == 404


def test_a_finished_visit_no_longer_shows_its_sensitive_procedures(api):
    ticket = api.post("/api/v1/tickets", "kiosk", json={"life_event": "okuyami", "language": "en",
                                                       "answers": {"deceased_kokuho": True}}).json()
    token = token_of(ticket)
    waiting = api.client.get(f"/t/{token}").text
    assert "Funeral expenses benefit" in waiting, "while the visit runs, the resident needs the plan"
    serve_to_the_end(api, "c9")
    done = api.client.get(f"/t/{token}")
    assert done.status_code == 200 and ticket["display_number"] in done.text
    for label in ("Funeral expenses benefit", "National Health Insurance: ending coverage",
                  "Guidance on procedures after a death"):
        assert label not in done.text, label
    public = api.client.get(f"/api/v1/public/tickets/{token}").json()
    assert public["plan"] == [] and public["band_label"] == ""
    # a visit without anything sensitive keeps its plan
    simple = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "language": "en"}).json()
    serve_to_the_end(api, "c1")
    assert "Certificate of residence" in api.client.get(simple["status_url"].split("madoguchi.test")[1]).text


def test_feedback_is_refused_until_the_visit_is_done_and_not_counted(api):
    ticket = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    token = token_of(ticket)
    early = api.client.post(f"/t/{token}/feedback", json={"rating": 1})
    assert early.status_code == 409 and early.json()["code"] == "feedback_too_early"
    api.post("/api/v1/counters/c1/call-next", "counter")
    assert api.client.post(f"/t/{token}/feedback", json={"rating": 1}).status_code == 409
    assert api.get("/api/v1/reports/kpi", "manager").json()["satisfaction"]["responses"] == 0


def test_feedback_types_are_strict_and_a_long_comment_is_told_so(api):
    ticket = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "language": "en"}).json()
    token = token_of(ticket)
    serve_to_the_end(api, "c1")
    for body in ({"rating": "5"}, {"rating": 5.0}, {"rating": True}, {"rating": 5, "comment": 12},
                 {"rating": 5, "extra": 1}, {"rating": [5]}):
        refused = api.client.post(f"/t/{token}/feedback", json=body)
        assert refused.status_code == 422 and refused.json()["code"] == "feedback_invalid", body
    long = api.client.post(f"/t/{token}/feedback", json={"rating": 5, "comment": "長" * 1001})
    assert long.status_code == 422 and long.json()["code"] == "feedback_comment_too_long"
    assert "1000" in long.json()["detail"]
    form = api.client.post(f"/t/{token}/feedback?lang=en", data={"rating": "5", "comment": "x" * 1001})
    assert form.status_code == 422 and "keep your comment to 1000 characters" in form.text
    assert "x" * 1001 in form.text, "what the resident typed is kept for them to shorten"
    assert api.client.post(f"/t/{token}/feedback", data={"rating": "5.0"}).status_code == 422
    assert api.client.post(f"/t/{token}/feedback", json={"rating": 5, "comment": "ok"}).status_code == 201


def test_feedback_comments_are_erased_after_the_retention_period_and_ratings_stay(api):
    from madoguchi.server.storage.feedback import expire_comments

    ticket = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    serve_to_the_end(api, "c1")
    assert api.client.post(f"/t/{token_of(ticket)}/feedback", json={"rating": 2, "comment": "待ち時間が長い"}
                           ).status_code == 201
    conn = api.services.store.conn
    retention = api.services.settings.comment_retention
    assert expire_comments(conn, api.clock.now() - retention) == 0
    # the next resident's feedback, past the retention period, erases the old comment; the rating stays
    api.clock.set(api.clock.now() + retention + dt.timedelta(days=1))
    api.tokens.pop("counter@c1")  # yesterday's session has expired: the clerk signs in again
    later = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).json()
    serve_to_the_end(api, "c1")
    assert api.client.post(f"/t/{token_of(later)}/feedback", json={"rating": 5, "comment": "早かった"}
                           ).status_code == 201
    assert conn.execute("SELECT rating, comment FROM feedback ORDER BY at").fetchall() == [(2, None), (5, "早かった")]
