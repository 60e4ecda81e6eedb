"""The dashboard's report is made in a process of its own: what the server's process would have computed
is never reached, a failing report is a 503 page (not a 500), a year is the longest range."""

from __future__ import annotations

import pytest

from madoguchi.server.storage import report_queries
from madoguchi.server.web import report_process


def page(api, query: str = ""):
    api.client.cookies.set("madoguchi_session", api.tokens["manager"])
    try:
        return api.client.get(f"/staff/manager{query}")
    finally:
        api.client.cookies.clear()


def test_the_report_is_made_outside_the_servers_process(api, monkeypatch):
    for _ in range(3):
        assert api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).status_code == 201

    def in_the_server(*args, **kwargs):
        raise AssertionError("the report's rows were read in the server's process")

    monkeypatch.setattr(report_queries, "visit_rows", in_the_server)  # the child process does not see this
    shown = page(api)
    assert shown.status_code == 200 and "来庁 3 件を" in shown.text
    assert 'data-band="simple"><th scope="row">かんたん窓口</th><td class="count">0</td>' in shown.text  # none called
    assert shown.headers["server-timing"].startswith("report;dur=")


@pytest.mark.allow_error_logs
def test_a_failing_report_is_a_503_page_with_a_message(api, monkeypatch, caplog):
    def broken(job):
        raise report_process.ReportFailed("disk gone")

    monkeypatch.setattr(report_process, "_run_now", broken)
    shown = page(api)
    assert shown.status_code == 503 and shown.headers["retry-after"] == "30"
    assert "集計できませんでした" in shown.text and 'id="report-meta"' not in shown.text
    assert any("KPI report" in r.getMessage() and r.exc_info for r in caplog.records), "the failure is logged"


def test_a_year_is_the_longest_range(api):
    assert page(api, "?from=2025-12-08&to=2026-12-08").status_code == 200  # 366 days
    too_long = page(api, "?from=2025-12-07&to=2026-12-08")
    assert too_long.status_code == 422 and "366 日まで" in too_long.text
