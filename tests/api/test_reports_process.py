"""The JSON API's reports are made like the dashboard's, in a process of their own (a year's XLSX in the
server's process would hold the GIL against every counter): what the server's process would have computed is
never reached, and a failing report is a logged 503 problem, not a 500."""

from __future__ import annotations

import contextlib

import pytest

from madoguchi.server.storage import report_queries
from madoguchi.server.web import report_process

PATHS = ["/api/v1/reports/kpi", "/api/v1/reports/visits.csv", "/api/v1/reports/visits.xlsx"]


@pytest.mark.parametrize("path", PATHS)
def test_the_report_is_made_outside_the_servers_process(api, monkeypatch, path):
    for _ in range(2):
        assert api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).status_code == 201

    def in_the_server(*args, **kwargs):
        raise AssertionError("the report's rows were read in the server's process")

    monkeypatch.setattr(report_queries, "visit_rows", in_the_server)  # the child process does not see this
    answer = api.get(path, "manager")
    assert answer.status_code == 200, answer.text
    if path.endswith("kpi"):
        assert answer.json()["visits"] == 2
    elif path.endswith("csv"):
        assert len(answer.content.decode("utf-8-sig").strip().splitlines()) == 1 + 2  # header and two visits
    else:
        assert answer.content[:2] == b"PK" and "attachment" in answer.headers["content-disposition"]


@pytest.mark.allow_error_logs
@pytest.mark.parametrize("path", PATHS)
def test_a_failing_report_is_a_503_problem_in_plain_words(api, monkeypatch, caplog, path):
    def broken(job):
        raise report_process.ReportFailed("disk gone")

    monkeypatch.setattr(report_process, "_run_now", broken)
    answer = api.get(path, "manager")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
    problem = answer.json()
    assert problem["code"] == "report_failed" and problem["detail"].startswith("集計できませんでした")
    assert "disk gone" not in answer.text  # the cause is in the log, not in the answer
    assert any(r.exc_info and "disk gone" in str(r.exc_info[1]) for r in caplog.records), "the failure is logged"


def test_reports_wait_their_turn_and_a_long_wait_is_a_failure(monkeypatch):
    monkeypatch.setattr(report_process, "TURN_WAIT_S", 0.2)
    with contextlib.ExitStack() as running:
        for _ in range(report_process.AT_ONCE):
            running.enter_context(report_process._turn())
        with pytest.raises(report_process.ReportFailed, match="reports were running"):
            report_process._run({"kind": "csv"})
    with report_process._turn():
        pass  # the turns were given back
