"""Exports a manager opens in Excel: the rows match the visits that were made."""

from __future__ import annotations

import csv
import io

import openpyxl

from madoguchi.server.reports import VISIT_COLUMNS


def serve_one(api, counter: str, minutes: float) -> None:
    for action in ("call-next", "start", "finish"):
        assert api.post(f"/api/v1/counters/{counter}/{action}", "counter").status_code == 200
        if action == "start":
            api.advance(minutes)


def make_day(api) -> list[dict]:
    made = [api.post("/api/v1/tickets", "kiosk", json=body).json() for body in (
        {"procedures": ["juminhyo"], "language": "en"},
        {"procedures": ["inkan"]},
        {"life_event": "okuyami", "answers": {"deceased_age": "from_75"}},
    )]
    api.advance(7)
    serve_one(api, "c1", 3)
    api.post("/api/v1/counters/c2/call-next", "counter")
    api.advance(2)
    api.post("/api/v1/counters/c2/no-show", "counter")
    return made


def test_csv_has_a_bom_and_one_row_per_visit_with_times(api):
    made = make_day(api)
    response = api.get("/api/v1/reports/visits.csv?from=2026-12-07&to=2026-12-07", "manager")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["visit_id"] for r in rows] == [t["id"] for t in made]
    assert tuple(rows[0]) == VISIT_COLUMNS
    first, second, third = rows
    assert first["outcome"] == "done" and first["wait_min"] == "7.0" and first["stay_min"] == "10.0"
    assert first["language"] == "en" and first["procedures"] == "juminhyo"
    assert second["outcome"] == "no_show" and second["stay_min"] == ""
    assert third["life_event"] == "okuyami" and third["outcome"] == "waiting" and third["first_called_at"] == ""


def test_xlsx_holds_the_same_rows(api):
    make_day(api)
    csv_rows = list(csv.reader(io.StringIO(
        api.get("/api/v1/reports/visits.csv", "manager").content.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(api.get("/api/v1/reports/visits.xlsx", "manager").content))
    xlsx_rows = [["" if v is None else str(v) for v in row] for row in book["visits"].iter_rows(values_only=True)]
    assert len(xlsx_rows) == 4
    assert [[same_value(c) for c in row] for row in xlsx_rows] == [[same_value(c) for c in row] for row in csv_rows]


def same_value(cell: str) -> object:
    """Excel keeps 7.0 as 7: compare numbers as numbers."""
    try:
        return float(cell)
    except ValueError:
        return cell


def test_kpi_reports_waits_per_band_and_no_shows(api):
    make_day(api)
    kpi = api.get("/api/v1/reports/kpi", "manager").json()
    assert kpi["visits"] == 3
    assert kpi["bands"]["simple"]["count"] == 2 and kpi["bands"]["simple"]["target_wait_min"] == 15
    assert kpi["no_show_rate"] == 0.5
    assert kpi["handling_min_by_procedure"]["juminhyo"]["mean"] == 3.0
    assert kpi["arrivals_by_hour"] == {"09": 3}
    assert kpi["estimate_accuracy"]["count"] == 2


def test_bad_date_ranges_are_422_not_500(api):
    queries = ("from=2026-13-01", "from=2026-12-07&to=2026-12-01", "from=2020-01-01&to=2026-01-01", "from=yesterday")
    for query in queries:
        response = api.get(f"/api/v1/reports/kpi?{query}", "manager")
        assert response.status_code == 422 and response.json()["code"] == "bad_date_range", query
