"""Exports a manager opens in Excel: the rows match the visits that were made."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl


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


def csv_rows(api, query: str = "") -> list[dict[str, str]]:
    response = api.get(f"/api/v1/reports/visits.csv{query}", "manager")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_has_japanese_headers_names_beside_ids_and_one_row_per_visit(api):
    made = make_day(api)
    rows = csv_rows(api, "?from=2026-12-07&to=2026-12-07")
    assert [r["来庁ID"] for r in rows] == [t["id"] for t in made]
    assert list(rows[0])[:10] == ["来庁ID", "庁舎", "業務日", "番号帯ID", "番号帯", "番号", "ライフイベントID",
                                  "ライフイベント", "手続きID", "手続き"]
    assert "待ち時間（分）" in rows[0] and "庁内滞在時間（分）" in rows[0] and "満足度" in rows[0]
    first, second, third = rows
    assert first["番号帯ID"] == "simple" and first["番号帯"] == "かんたん窓口"
    assert first["手続きID"] == "juminhyo" and first["手続き"] == "住民票の写し"
    assert first["結果"] == "done" and first["待ち時間（分）"] == "7.0" and first["庁内滞在時間（分）"] == "10.0"
    assert first["発券時刻"] == "2026-12-07 09:00:00" and first["最初の呼出時刻"] == "2026-12-07 09:07:00"
    assert first["言語"] == "en"
    assert second["結果"] == "no_show" and second["庁内滞在時間（分）"] == ""
    assert third["ライフイベントID"] == "okuyami" and third["ライフイベント"].startswith("おくやみ")
    assert third["結果"] == "waiting" and third["最初の呼出時刻"] == ""
    assert len(third["手続き"].split("、")) == len(third["手続きID"].split(";")) >= 2


def test_csv_in_english_on_request(api):
    make_day(api)
    rows = csv_rows(api, "?lang=en")
    assert list(rows[0])[:5] == ["Visit ID", "Office", "Service date", "Band ID", "Band"]
    assert rows[0]["Procedures"] == "Certificate of residence" and rows[0]["Wait (min)"] == "7.0"
    assert rows[0]["Band"] == "Simple procedures" and rows[2]["Life event"] not in ("", "okuyami")
    assert api.get("/api/v1/reports/visits.csv?lang=fr", "manager").status_code == 422


def test_xlsx_holds_the_same_rows_with_real_date_time_cells(api):
    make_day(api)
    rows = csv_rows(api)
    book = openpyxl.load_workbook(io.BytesIO(api.get("/api/v1/reports/visits.xlsx", "manager").content))
    sheet = book["visits"]
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert list(header) == list(rows[0]) and len(cells) == 3
    issued = header.index("発券時刻")
    first = cells[0]
    assert first[issued] == dt.datetime(2026, 12, 7, 9, 0)  # a date-time cell, the site's wall clock
    assert isinstance(first[header.index("業務日")], dt.datetime | dt.date)
    assert first[header.index("最初の呼出時刻")] == dt.datetime(2026, 12, 7, 9, 7)
    assert cells[2][header.index("最初の呼出時刻")] is None
    assert sheet.cell(row=2, column=issued + 1).number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet.cell(row=2, column=issued + 1).is_date
    assert first[header.index("手続き")] == "住民票の写し" and first[header.index("待ち時間（分）")] == 7
    for row, csv_row in zip(cells, rows, strict=True):
        for name, value in zip(header, row, strict=True):
            shown = "" if value is None else (value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime)
                                              else str(value))
            if name == "業務日":
                shown = shown[:10]
            assert same_value(shown) == same_value(csv_row[name]), name
    english = openpyxl.load_workbook(io.BytesIO(api.get("/api/v1/reports/visits.xlsx?lang=en", "manager").content))
    assert next(english["visits"].iter_rows(values_only=True))[:2] == ("Visit ID", "Office")


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
        assert response.json()["detail"] == (
            "期間が正しくありません。開始日と終了日は 2026-04-01 のように「年-月-日」で、"
            "終了日は開始日以降、366日以内で指定してください。"), query  # no English inside the Japanese
