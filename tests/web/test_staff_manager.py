"""The manager dashboard in Chromium against a live server: the KPIs of the visits made (tables and charts with
the city's targets), CSV and XLSX downloaded through the page's links with one row per visit, a bad range
explained on the page (422), and counter and guide accounts refused on the page and on the exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter

import httpx
import openpyxl
import pytest
from playwright.sync_api import expect

from madoguchi.server import reports
from madoguchi.server.web.charts import RowSpec, column_chart, row_chart, text_width
from tests.web.test_staff_console import sign_in
from tests.web.test_status_page import serious_violations, shoot

TABLET = {"width": 820, "height": 1180}


def serve_to_the_end(counter: httpx.Client, counter_id: str, ticket_id: str) -> None:
    """Call, start and finish every step of the visit at this counter (a one-stop counter does them all)."""
    for _ in range(12):
        called = counter.post(f"/api/v1/counters/{counter_id}/call-next").json()["ticket"]
        assert called is not None and called["id"] == ticket_id
        assert counter.post(f"/api/v1/counters/{counter_id}/start").status_code == 200
        finished = counter.post(f"/api/v1/counters/{counter_id}/finish", json={"outcome": "done"})
        assert finished.status_code == 200
        if finished.json()["ticket"]["status"] == "done":
            return
    raise AssertionError(f"visit {ticket_id} not done after 12 steps")


def make_visits(live_server) -> dict[str, dict]:
    """A 転入 served to the end and rated 4, a 住民票 served, a 転入 called and not there (no-show)."""
    kiosk, counter = live_server.client("kiosk"), live_server.client("counter")
    made = {"tennyu": kiosk.post("/api/v1/tickets", json={"life_event": "tennyu"}).json(),
            "simple": kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json(),
            "absent": kiosk.post("/api/v1/tickets", json={"life_event": "tennyu"}).json()}
    serve_to_the_end(counter, "c4", made["tennyu"]["id"])
    serve_to_the_end(counter, "c1", made["simple"]["id"])
    assert counter.post("/api/v1/counters/c5/call-next").json()["ticket"]["id"] == made["absent"]["id"]
    assert counter.post("/api/v1/counters/c5/no-show").status_code == 200
    rated = httpx.post(made["tennyu"]["status_url"] + "/feedback", json={"rating": 4}, timeout=10)
    assert rated.status_code == 201, rated.text
    return made


def test_the_dashboard_shows_the_visits_made_and_downloads_their_rows(live_server, browser):
    base = live_server.url
    made = make_visits(live_server)
    manager = sign_in(browser, base, None, user="manager-e2e")
    manager.wait_for_url(f"{base}/staff/guide")
    manager.get_by_role("link", name="マネージャー画面").click()
    manager.wait_for_url(f"{base}/staff/manager")
    today = dt.date.fromisoformat(made["tennyu"]["issued_at"][:10])
    expect(manager.locator("#from")).to_have_value((today - dt.timedelta(days=29)).isoformat())
    expect(manager.locator("#to")).to_have_value(today.isoformat())
    expect(manager.locator("#report-meta")).to_contain_text("来庁 3 件を")
    assert re.search(r"([\d.]+) 秒で集計", manager.locator("#report-meta").inner_text())

    waits = manager.locator("#kpi-wait")
    expect(waits.locator("tr[data-band='onestop'] td.count")).to_have_text("2")  # both 転入 were called
    expect(waits.locator("tr[data-band='simple'] td.count")).to_have_text("1")
    expect(waits.locator("tr[data-band='onestop'] td.target")).to_have_text("30")
    expect(waits.locator("tr[data-band='okuyami'] td.count")).to_have_text("0")
    api_kpi = live_server.client("manager").get("/api/v1/reports/kpi",
                                                params={"from": today.isoformat()}).json()
    for band in ("onestop", "simple"):  # the same figures as the API's
        shown = waits.locator(f"tr[data-band='{band}'] td.p90").inner_text()
        assert float(shown) == api_kpi["bands"][band]["p90"]
    assert waits.locator("svg line.marker.target").count() == 3  # one target per band, drawn in

    stay = manager.locator("#kpi-stay tr[data-life-event='tennyu']")
    expect(stay.locator("td.count")).to_have_text("1")  # the served one; the no-show has no stay
    expect(stay.locator("td.target")).to_have_text("79")
    expect(stay.locator("td.baseline")).to_have_text("129")
    expect(manager.locator("#kpi-stay tr[data-life-event='simple_procedure'] td.count")).to_have_text("1")
    assert manager.locator("#kpi-stay svg line[data-marker='target']").count() == 1
    assert manager.locator("#kpi-stay svg line[data-marker='baseline']").count() == 1
    target_x = float(manager.locator("#kpi-stay svg line[data-marker='target']").get_attribute("x1"))
    baseline_x = float(manager.locator("#kpi-stay svg line[data-marker='baseline']").get_attribute("x1"))
    zero_x = float(manager.locator("#kpi-stay svg text.tick").first.get_attribute("x"))  # the axis' 0
    assert abs((target_x - zero_x) / (baseline_x - zero_x) - 79 / 129) < 0.01  # drawn to scale

    expect(manager.locator("#kpi-handling tr[data-procedure='juminhyo'] td.count")).to_have_text("1")
    expect(manager.locator("#noshow-figure")).to_have_text("1 件 / 終わった来庁 3 件（33%）")
    counts = [int(c) for c in manager.locator("#kpi-arrivals td[data-hour]").all_inner_texts()]
    assert sum(counts) == 3
    for hour, count in Counter(int(t["issued_at"][11:13]) for t in made.values()).items():
        expect(manager.locator(f"#kpi-arrivals td[data-hour='{hour}']")).to_have_text(str(count))
    assert manager.locator("#kpi-arrivals svg rect.bar").count() == len(counts)
    expect(manager.locator("#kpi-satisfaction td[data-rating='4']")).to_have_text("1")
    expect(manager.locator("#satisfaction-mean")).to_have_text("平均 4.0（回答 1 件）")
    expect(manager.locator("#kpi-accuracy .acc-count")).to_have_text("3")  # all three called, each estimated
    shoot(manager, "staff-manager-1366")
    assert not serious_violations(manager)

    with manager.expect_download() as download:
        manager.click("#download-csv")
    assert manager.locator("#download-csv").get_attribute("href").startswith("/staff/manager/visits.csv?from=")
    assert re.fullmatch(r"madoguchi-chuo-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename)
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == reports.headers("ja")
    assert {r["来庁ID"]: r["結果"] for r in rows} == {made["tennyu"]["id"]: "done", made["simple"]["id"]: "done",
                                                     made["absent"]["id"]: "no_show"}
    assert {r["来庁ID"]: r["満足度"] for r in rows}[made["tennyu"]["id"]] == "4"
    assert {r["番号"] for r in rows} == {str(t["number"]) for t in made.values()}

    with manager.expect_download() as download:
        manager.click("#download-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))["visits"]
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert list(header) == reports.headers("ja")
    assert sorted(c[0] for c in cells) == sorted(t["id"] for t in made.values())
    outcome = header.index("結果")
    assert sorted(c[outcome] for c in cells) == ["done", "done", "no_show"]

    manager.goto(f"{base}/staff/manager?lang=en")
    expect(manager.locator("#report-meta")).to_contain_text("3 visits counted in")
    with manager.expect_download() as download:
        manager.click("#download-csv")
    english = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert english[0] == reports.headers("en") and len(english) == 4

    manager.set_viewport_size(TABLET)
    manager.goto(f"{base}/staff/manager?lang=ja")
    shoot(manager, "staff-manager-tablet")
    assert not serious_violations(manager)


def test_a_bad_date_range_is_explained_on_the_page_with_422(live_server, browser):
    base = live_server.url
    manager = sign_in(browser, base, None, user="manager-e2e")
    manager.goto(f"{base}/staff/manager")
    manager.fill("#from", "2026-12-05")
    manager.fill("#to", "2026-12-01")
    with manager.expect_response(lambda r: r.url.startswith(f"{base}/staff/manager?")) as answer:
        manager.get_by_role("button", name="表示").click()
    assert answer.value.status == 422
    expect(manager.locator("#range-error")).to_have_text("終了日が開始日より前です。開始日と終了日を入れ替えてください。")
    expect(manager.locator("#from")).to_have_value("2026-12-05")  # what was asked is kept, to correct
    expect(manager.locator("#download-csv")).to_have_count(0)
    assert not serious_violations(manager)

    long = manager.goto(f"{base}/staff/manager?from=2024-01-01&to=2026-01-01")
    assert long is not None and long.status == 422
    expect(manager.locator("#range-error")).to_contain_text("366 日まで")
    bad = manager.goto(f"{base}/staff/manager?from=2026-13-40&to=2026-12-01")
    assert bad is not None and bad.status == 422
    expect(manager.locator("#range-error")).to_contain_text("2026-12-01 の形")
    typed = manager.request.get(f"{base}/staff/manager/visits.csv?from=2026-12-05&to=2026-12-01")
    assert typed.status == 422 and typed.json()["code"] == "range_reversed"
    one_day = manager.goto(f"{base}/staff/manager?from=2026-12-01&to=2026-12-01")
    assert one_day is not None and one_day.status == 200
    expect(manager.locator("#report-meta")).to_contain_text("来庁 0 件")


def test_counter_and_guide_accounts_are_refused_on_the_page_and_the_downloads(live_server, browser):
    base = live_server.url
    csv_path = "/api/v1/reports/visits.csv"
    month = "?from=2026-11-01&to=2026-11-30"
    for user, counter in (("counter-e2e", "c4"), ("guide-e2e", None)):
        page = sign_in(browser, base, counter, user=user)
        shown = page.goto(f"{base}/staff/manager")
        assert shown is not None and shown.status == 403
        expect(page.locator("p.error")).to_contain_text("マネージャーと管理者だけ")
        expect(page.locator("#report-meta")).to_have_count(0)
        for kind in ("csv", "xlsx"):  # the page's own download links
            refused = page.request.get(f"{base}/staff/manager/visits.{kind}{month}",
                                       headers={"Accept": "application/json"})
            assert refused.status == 403 and refused.json()["code"] == "manager_only"
        assert page.request.get(f"{base}{csv_path}").status == 403  # the session cookie, on the API
        assert page.request.get(f"{base}/api/v1/reports/visits.xlsx").status == 403
        assert page.request.get(f"{base}/api/v1/reports/kpi").status == 403
        assert page.get_by_role("link", name="マネージャー画面").count() == 0
    for role in ("counter", "guide"):
        assert live_server.client(role).get(csv_path).status_code == 403
    assert live_server.client("manager").get(csv_path).status_code == 200
    assert live_server.client().get(csv_path).status_code == 401

    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{base}/staff/manager")
    assert anonymous.url == f"{base}/staff/login"
    assert anonymous.request.get(f"{base}/staff/manager/visits.csv{month}").status == 401
    admin = sign_in(browser, base, None, user="admin-e2e")
    shown = admin.goto(f"{base}/staff/manager")
    assert shown is not None and shown.status == 200
    expect(admin.locator("#report-meta")).to_contain_text("来庁 0 件")


def test_charts_draw_to_scale_on_round_axes_and_fit_long_labels():
    chart = row_chart([RowSpec("転入", [("p50", 44), ("p90", 83)], [("baseline", 129), ("target", 79)]),
                       RowSpec("Moving in from outside Kumamoto City, with a family of five", [("p50", None)])])
    assert [t.text for t in chart.ticks] == ["0", "50", "100", "150"]  # 129 fits under a round top
    (p50, p90), (baseline, target) = chart.rows[0].bars, chart.rows[0].markers
    assert p50.width == pytest.approx(p90.width * 44 / 83)
    unit = (chart.ticks[1].x - chart.ticks[0].x) / 50
    assert p90.width == pytest.approx(83 * unit) and target.x1 - chart.plot_x == pytest.approx(79 * unit)
    assert baseline.x1 > target.x1 and chart.rows[1].bars == ()  # no figure, no bar
    assert chart.rows[1].label.endswith("…") and text_width(chart.rows[1].label) <= chart.label_x
    columns = column_chart([("1", 0), ("2", 1)])
    assert [t.text for t in columns.ticks] == ["0", "1"]  # counts: no half residents
    assert columns.columns[0].height == 0 and columns.columns[1].height == pytest.approx(columns.plot_h)
