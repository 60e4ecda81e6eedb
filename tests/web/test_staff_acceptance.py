"""Issue 11's acceptance, as one short office day in Debian's Chromium against a live server, with no curl:
two counter consoles serve a 転入 visit step by step (the first sends it on to the second), the floor-guide
board in another browser follows each call within a second without reload, a counter the guide moves to
another band calls from that band next, and the manager downloads CSV and XLSX whose rows are the visits
made."""

from __future__ import annotations

import csv
import io
import time

import openpyxl
from playwright.sync_api import expect

from tests.web.conftest import CHROMIUM_FLAGS
from tests.web.test_staff_console import sign_in

FAMILY = {"household": [{"age": 38, "relation": "self"}, {"age": 6, "relation": "child"}]}


def board_sees(board, counter: str, number: str, since: float) -> float:
    """Milliseconds from ``since`` until the board shows ``number`` at ``counter`` (fails after 1 s)."""
    expect(board.locator(f"#counters li[data-counter='{counter}'] .serving")).to_contain_text(number, timeout=1000)
    return (time.monotonic() - since) * 1000


def finish_every_step(console) -> None:
    """Finish steps at this console until the visit has left it (bounded by the plan's length)."""
    for _ in range(20):
        if console.locator("#number").text_content() == "—":
            return
        expect(console.locator("#status")).to_contain_text("対応中")
        console.keyboard.press("f")
        console.wait_for_timeout(150)
    raise AssertionError("the visit never left the console")


def test_an_office_day_on_the_staff_pages(live_server, browser):
    base = live_server.url
    kiosk = live_server.client("kiosk")
    tennyu = kiosk.post("/api/v1/tickets", json={"life_event": "tennyu", "language": "vi", "answers": FAMILY}).json()
    simple = kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json()
    assert tennyu["band"] == "onestop" and simple["band"] == "simple"

    other_browser = browser.browser_type.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
    try:
        board = sign_in(other_browser, base, None, user="guide-e2e")
        board.wait_for_url(f"{base}/staff/guide")
        board.evaluate("window.notReloaded = true")
        c4 = sign_in(browser, base, "c4")
        c5 = sign_in(browser, base, "c5")

        # c4 calls the 転入 visit: the board in the other browser shows it within a second
        clicked = time.monotonic()
        c4.keyboard.press("n")
        pushed_ms = [board_sees(board, "c4", tennyu["display_number"], clicked)]
        expect(c4.locator("#number")).to_have_text(tennyu["display_number"])
        c4.keyboard.press("s")
        expect(c4.locator("#status")).to_contain_text("対応中")
        # the 転入届 is done at c4; the rest of the visit is sent on to c5
        c4.select_option("#to-counter", "c5")
        clicked = time.monotonic()
        c4.click("#btn-finish")
        pushed_ms.append(board_sees(board, "c5", tennyu["display_number"], clicked))
        expect(c4.locator("#number")).to_have_text("—")
        expect(c5.locator("#number")).to_have_text(tennyu["display_number"])
        expect(c5.locator("#plan li").first).to_contain_text("済")
        c5.keyboard.press("s")
        finish_every_step(c5)
        assert board.evaluate("window.notReloaded") is True
        print(f"counter click -> other browser's board: {', '.join(f'{ms:.0f}' for ms in pushed_ms)} ms")

        # the guide moves c1 (simple procedures) to the one-stop band: c1 calls from that band next
        late = kiosk.post("/api/v1/tickets", json={"life_event": "tennyu"}).json()
        card = board.locator("#counters li[data-counter='c1']")
        card.locator("p.move select").select_option("onestop")
        card.locator("p.move button.move").click()
        expect(card.locator("p.skills")).to_have_text("ワンストップ窓口")  # the move is done: c1 has that band only
        c1 = sign_in(browser, base, "c1")
        c1.keyboard.press("n")
        expect(c1.locator("#number")).to_have_text(late["display_number"])  # not the older 住民票 visit
        c1.keyboard.press("x")
        expect(c1.locator("#number")).to_have_text("—")
    finally:
        other_browser.close()

    # the manager's downloads hold the visits made: one done 転入, one no-show, one still waiting
    manager = sign_in(browser, base, None, user="manager-e2e")
    manager.goto(f"{base}/staff/manager")
    with manager.expect_download() as got:
        manager.click("#download-csv")
    rows = list(csv.DictReader(io.StringIO(got.value.path().read_text(encoding="utf-8-sig"))))
    by_number = {r["番号"]: r for r in rows}
    assert set(by_number) == {tennyu["display_number"], simple["display_number"], late["display_number"]}, rows
    served = by_number[tennyu["display_number"]]
    assert (served["結果"], served["完了した手続き数"], served["言語"]) == ("done", str(len(tennyu["plan"])), "vi")
    assert served["ライフイベント"].startswith("転入") and float(served["庁内滞在時間（分）"]) >= 0
    assert by_number[simple["display_number"]]["結果"] == "waiting"
    assert by_number[late["display_number"]]["結果"] == "no_show"
    with manager.expect_download() as got:
        manager.click("#download-xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(got.value.path().read_bytes()), read_only=True).active
    header, *cells = list(sheet.values)
    outcome_of = {row[header.index("番号")]: row[header.index("結果")] for row in cells}
    assert outcome_of == {int(n): r["結果"] for n, r in by_number.items()}
