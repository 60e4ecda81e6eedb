"""A manager's report never stops the counters: its queries run off the office's lock and connection."""

from __future__ import annotations

import threading

import pytest

from madoguchi.server.storage import report_queries


@pytest.mark.parametrize("path", ["/api/v1/reports/kpi", "/api/v1/reports/visits.csv", "/api/v1/reports/visits.xlsx"])
def test_a_counter_can_act_while_a_report_query_runs(api, monkeypatch, path):
    assert api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).status_code == 201
    seen: dict[str, object] = {}
    original = report_queries.visit_rows

    def query_while_a_counter_acts(conn, *args):
        outcome: list[object] = []

        def counter_acts() -> None:
            # what any counter's command does first: take the office lock (a hang guard, not a timing)
            try:
                outcome.append(api.services.execute(lambda office, now, tx: office.day))
            except Exception as exc:  # pragma: no cover - reported below
                outcome.append(exc)

        worker = threading.Thread(target=counter_acts)
        worker.start()
        worker.join(20)
        seen["counter_finished"] = not worker.is_alive()
        seen["outcome"] = outcome
        seen["same_connection"] = conn is api.services.store.conn
        return original(conn, *args)

    monkeypatch.setattr(report_queries, "visit_rows", query_while_a_counter_acts)
    answer = api.get(path, "manager")
    assert answer.status_code == 200
    assert seen["counter_finished"], "a counter's command waited for the report to finish"
    assert seen["outcome"] == [api.services.office.day]
    assert seen["same_connection"] is False, "the report read on the office's own connection"
