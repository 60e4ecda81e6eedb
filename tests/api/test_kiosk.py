"""Issuing tickets through the API, as a kiosk would."""

from __future__ import annotations

from tests.factories import TENNYU_FAMILY

TENNYU = {"life_event": "tennyu", "answers": dict(TENNYU_FAMILY.answers), "language": "vi"}


def test_catalog_lists_todays_life_events_in_every_language(api):
    body = api.get("/api/v1/catalog", "kiosk").json()
    ids = [e["id"] for e in body["life_events"]]
    assert ids == ["tennyu", "tenkyo", "tenshutsu", "okuyami"]  # 出生・婚姻・離婚 come in 2027
    assert body["languages"][0] == "ja" and {"vi", "zh", "ko", "ne", "ja-easy"} <= set(body["languages"])
    tennyu = body["life_events"][0]
    assert tennyu["label"]["ja"].startswith("転入") and tennyu["label"]["ne"]
    assert [b["range"] for b in body["bands"]] == [[1, 299], [301, 699], [701, 799]]


def test_guidance_shows_the_plan_without_issuing(api):
    plan = api.post("/api/v1/guidance", "kiosk", json={**TENNYU, "language": "en"}).json()["plan"]
    assert [s["procedure"] for s in plan][:2] == ["tennyu_todoke", "tennyugaku"]
    assert plan[0]["label"] == "Moving-in notification"
    assert api.services.office.tickets == {}


def test_ticket_answer_has_number_position_estimate_plan_and_status_url(api):
    response = api.post("/api/v1/tickets", "kiosk", json=TENNYU, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 201
    body = response.json()
    assert body["number"] == 301 and body["display_number"] == "301" and body["band"] == "onestop"
    assert body["position"] == 1 and body["language"] == "vi"
    assert set(body["estimate"]) == {"minutes", "low", "high"}
    assert body["estimate"]["low"] <= body["estimate"]["minutes"] <= body["estimate"]["high"]
    assert body["plan"][0]["label"] == "Thông báo chuyển đến"
    assert body["status_url"].startswith("http://madoguchi.test/t/")
    assert body["issued_at"].endswith("+09:00")


def test_same_idempotency_key_gives_the_same_ticket_never_a_second(api):
    first = api.post("/api/v1/tickets", "kiosk", json=TENNYU, headers={"Idempotency-Key": "retry-me"})
    again = api.post("/api/v1/tickets", "kiosk", json=TENNYU, headers={"Idempotency-Key": "retry-me"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["number"] == first.json()["number"]
    assert len(api.services.office.tickets) == 1


def test_reusing_a_key_for_another_request_is_refused(api):
    api.post("/api/v1/tickets", "kiosk", json=TENNYU, headers={"Idempotency-Key": "k"})
    other = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert len(api.services.office.tickets) == 1


def test_bad_bodies_get_a_clear_problem_and_issue_nothing(api):
    cases = [
        ({"life_event": "tennyu", "procedures": ["juminhyo"]}, "life_event_xor_procedures"),
        ({}, "life_event_xor_procedures"),
        ({"life_event": "moon_landing"}, "unknown_life_event"),
        ({"procedures": ["juminhyo", "sosaihi"]}, "procedures_in_different_bands"),
        ({"life_event": "tennyu", "answers": {"household": [{"age": 200}]}}, "invalid_request"),
        ({"life_event": "tennyu", "language": "xx"}, "answer_not_an_option"),
        ({"life_event": "tennyu", "priority": ["vip"]}, "invalid_request"),
        ({"life_event": "tennyu", "card": {"name": "x"}}, "invalid_request"),
        ({"life_event": "tennyu", "surprise": 1}, "invalid_request"),
    ]
    for body, code in cases:
        response = api.post("/api/v1/tickets", "kiosk", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == code, (body, problem)
        assert problem["messages"]["ja"] and problem["messages"]["en"]
        assert problem["detail"] == problem["messages"]["ja"]
    assert api.services.office.tickets == {}
    assert api.post("/api/v1/tickets", "kiosk", content=b"{not json", headers={"Content-Type": "application/json"}
                    ).status_code == 422


def test_outside_hours_the_kiosk_is_told_when_reception_opens(api):
    api.clock.set(api.clock.now().replace(hour=17, minute=30))
    response = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]},
                        headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert response.json()["detail"] == "Outside reception hours. Tickets are issued from 08:30 to 17:15."
