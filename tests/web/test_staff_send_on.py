"""Sending a visit on from the console: to a chosen procedure and to a chosen counter, seen by both consoles."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.test_staff_console import sign_in
from tests.web.test_status_page import serious_violations, shoot


def test_a_console_sends_the_visit_to_a_chosen_counter_and_that_console_is_called_live(live_server, browser):
    kiosk = live_server.client("kiosk")
    visit = kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json()
    c1 = sign_in(browser, live_server.url, "c1")
    c2 = sign_in(browser, live_server.url, "c2")
    c2.evaluate("window.notReloaded = true")
    c1.keyboard.press("n")
    expect(c1.locator("#number")).to_have_text(visit["display_number"])
    expect(c1.locator("#next-procedure")).to_be_disabled()  # only a visit being served is sent on
    c1.keyboard.press("s")
    expect(c1.locator("#next-procedure")).to_be_enabled()
    c1.select_option("#next-procedure", "mynumber_card")  # the resident also asks about the マイナンバーカード
    c1.select_option("#to-counter", "c2")
    shoot(c1, "staff-console-send-on-1366")
    assert not serious_violations(c1)
    c1.click("#btn-finish")
    expect(c1.locator("#number")).to_have_text("—")
    expect(c2.locator("#number")).to_have_text(visit["display_number"], timeout=1000)  # pushed, no reload
    assert c2.evaluate("window.notReloaded") is True
    expect(c2.locator("#status")).to_contain_text("呼出中")
    c2.keyboard.press("s")
    expect(c2.locator("#plan li[aria-current=step]")).to_contain_text("個人番号カード")
    expect(c2.locator("#plan li").first).to_contain_text("済")
    c2.keyboard.press("f")
    expect(c2.locator("#number")).to_have_text("—")
    token = visit["status_url"].rstrip("/").rsplit("/", 1)[-1]
    assert kiosk.get(f"/api/v1/public/tickets/{token}").json()["status"] == "done"


def test_a_refused_send_on_is_said_on_the_console_and_the_visit_stays(live_server, browser):
    kiosk = live_server.client("kiosk")
    visit = kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json()
    c1 = sign_in(browser, live_server.url, "c1")
    c1.keyboard.press("n")
    expect(c1.locator("#number")).to_have_text(visit["display_number"])
    c1.keyboard.press("s")
    expect(c1.locator("#status")).to_contain_text("対応中")
    c1.select_option("#next-procedure", "inkan")
    c1.select_option("#to-counter", "c9")  # the おくやみ counter serves no 印鑑登録
    c1.click("#btn-finish")
    expect(c1.locator("#message")).to_contain_text("担当していません")
    expect(c1.locator("#number")).to_have_text(visit["display_number"])
    expect(c1.locator("#status")).to_contain_text("対応中")
