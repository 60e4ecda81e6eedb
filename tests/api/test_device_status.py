"""A kiosk's health reaches the floor guide over REST: paper out, 「係員を呼ぶ」, a kiosk gone silent."""

from __future__ import annotations


def test_a_kiosk_reports_paper_end_and_call_staff_and_the_guide_sees_it(api):
    assert api.put_status({"printer": "paper_end", "card_reader": "ok", "call_staff": True}).status_code == 204
    seen = api.get("/api/v1/devices/status", "guide").json()
    assert [(d["device"], d["kind"], d["printer"], d["call_staff"], d["stale"]) for d in seen] == [
        ("kiosk-1", "kiosk", "paper_end", True, False)]

    assert api.put_status({"printer": "online", "call_staff": False}).status_code == 204
    again = api.get("/api/v1/devices/status", "guide").json()
    assert (again[0]["printer"], again[0]["call_staff"]) == ("online", False)


def test_a_kiosk_that_stops_reporting_is_shown_stale(api):
    api.put_status({"printer": "online"})
    api.advance(4)
    assert api.get("/api/v1/devices/status", "guide").json()[0]["stale"] is True


def test_a_report_outside_the_closed_lists_is_refused_and_changes_nothing(api):
    api.put_status({"printer": "online"})
    for bad in ({"printer": "on fire"}, {"card_reader": "x" * 5000}, {"name": "試験 花子"}, {"call_staff": "yes"}):
        refused = api.put_status(bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert api.get("/api/v1/devices/status", "guide").json()[0]["printer"] == "online"


def test_staff_cannot_report_as_a_device(api):
    response = api.client.put("/api/v1/devices/me/status", json={"printer": "online"}, headers=api.headers("guide"))
    assert response.status_code == 403
