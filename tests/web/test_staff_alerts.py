"""The floor-guide board's alerts in Chromium against a live server: a kiosk's 「係員を呼ぶ」, a printer out
of paper and a device gone silent show at the top of every guide's board without a reload; a guide who
answers a call clears it for all guides until the kiosk calls again."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.live import LiveServer
from tests.web.test_staff_console import sign_in
from tests.web.test_status_page import serious_violations, shoot

TABLET = {"width": 820, "height": 1180}
STALE_S = 2.0


def board(browser, base: str):
    page = sign_in(browser, base, None, user="guide-e2e")
    page.wait_for_url(f"{base}/staff/guide")
    expect(page.locator("#live")).to_have_text("自動更新中")
    expect(page.locator("#alerts")).to_have_text("お知らせはありません。")
    page.evaluate("window.notReloaded = true")
    return page


def report(kiosk: httpx.Client, **status: object) -> None:
    assert kiosk.put("/api/v1/devices/me/status", json=status).status_code == 204


def test_a_kiosk_calling_staff_alerts_every_board_at_once_and_an_answer_clears_it_for_all(live_server, browser):
    base = live_server.url
    first, second = board(browser, base), board(browser, base)
    kiosk = live_server.client("kiosk")
    report(kiosk, printer="online", card_reader="ok", call_staff=True)
    pressed = time.monotonic()
    alert = first.locator("#alerts li[data-alert='call_staff'][data-device='kiosk-e2e']")
    expect(alert).to_contain_text("kiosk-e2e（受付機）で係員の呼び出し", timeout=1000)
    print(f"call staff -> board alert in {(time.monotonic() - pressed) * 1000:.0f} ms")
    expect(second.locator("#alerts li[data-alert='call_staff']")).to_be_visible(timeout=1000)
    expect(first.locator("#alerts-section")).to_have_class("alerts active")
    assert first.evaluate("window.notReloaded") is True
    shoot(first, "staff-guide-alerts-1366")
    assert not serious_violations(first)

    alert.locator("button[data-action='acknowledge']").click()  # 対応しました
    expect(first.locator("#alerts li[data-alert='call_staff']")).to_have_count(0, timeout=1000)
    expect(second.locator("#alerts li[data-alert='call_staff']")).to_have_count(0, timeout=1000)
    expect(second.locator("#alerts")).to_have_text("お知らせはありません。")
    report(kiosk, printer="online", card_reader="ok", call_staff=True)  # the same call, still waiting: answered
    report(kiosk, printer="online", card_reader="ok", call_staff=False)  # the resident was helped
    expect(second.locator("#alerts li")).to_have_count(1)
    report(kiosk, printer="online", card_reader="ok", call_staff=True)  # someone else presses the button
    expect(second.locator("#alerts li[data-alert='call_staff']")).to_be_visible(timeout=1000)
    assert second.evaluate("window.notReloaded") is True

    csrf = first.locator("#board").get_attribute("data-csrf")
    again = first.request.post(f"{base}/staff/guide/devices/display-e2e/acknowledge", form={"csrf": csrf},
                               headers={"Accept": "application/json"})
    assert again.status == 404 and again.json()["code"] == "alert_gone"  # nothing to answer there
    no_token = first.request.post(f"{base}/staff/guide/devices/kiosk-e2e/acknowledge", form={},
                                  headers={"Accept": "application/json"})
    assert no_token.status == 403 and no_token.json()["code"] == "csrf_refused"
    expect(first.locator("#alerts li[data-alert='call_staff']")).to_be_visible()

    counter = sign_in(browser, base, "c4")
    counter_csrf = counter.locator("#console").get_attribute("data-csrf")
    refused = counter.request.post(f"{base}/staff/guide/devices/kiosk-e2e/acknowledge", form={"csrf": counter_csrf},
                                   headers={"Accept": "application/json"})
    assert refused.status == 403 and refused.json()["code"] == "guide_only"
    first.set_viewport_size(TABLET)
    shoot(first, "staff-guide-alerts-tablet")
    assert not serious_violations(first)


def test_a_printer_out_of_paper_alerts_the_board_until_paper_is_back(live_server, browser):
    page = board(browser, live_server.url)
    kiosk = live_server.client("kiosk")
    report(kiosk, printer="paper_end", card_reader="ok")
    alert = page.locator("#alerts li[data-alert='printer'][data-device='kiosk-e2e']")
    expect(alert).to_have_text("kiosk-e2e（受付機）のプリンター: 用紙切れ", timeout=1000)
    english = sign_in(browser, live_server.url, None, lang="en", user="guide-e2e")
    expect(english.locator("#alerts li[data-alert='printer']")).to_have_text("kiosk-e2e (kiosk) printer: out of paper")
    report(kiosk, printer="cover_open", card_reader="ok")
    expect(alert).to_have_text("kiosk-e2e（受付機）のプリンター: カバーが開いています", timeout=1000)
    report(kiosk, printer="paper_near_end", card_reader="ok")  # still prints: no alert
    expect(page.locator("#alerts li[data-alert]")).to_have_count(0, timeout=1000)
    assert page.evaluate("window.notReloaded") is True


@pytest.fixture
def quick_stale_server(tmp_path):
    """A live server that calls a device silent after 2 s instead of 3 min."""
    server = LiveServer(tmp_path / "data")
    server.prepare_accounts()
    server.start("--no-mqtt", "--device-stale-s", str(STALE_S))
    yield server
    server.stop()


def test_a_device_silent_past_the_limit_shows_offline_and_clears_when_it_speaks(quick_stale_server, browser):
    page = board(browser, quick_stale_server.url)
    kiosk = quick_stale_server.client("kiosk")
    report(kiosk, printer="online", card_reader="ok")
    reported = time.monotonic()
    offline = page.locator("#alerts li[data-alert='offline'][data-device='kiosk-e2e']")
    expect(offline).to_have_count(0)
    expect(offline).to_contain_text("kiosk-e2e（受付機）から連絡がありません", timeout=(STALE_S + 1.5) * 1000)
    waited = time.monotonic() - reported
    print(f"silent kiosk -> offline alert after {waited:.2f} s (limit {STALE_S} s)")
    assert waited >= STALE_S - 0.1, "shown offline before the limit"
    report(kiosk, printer="online", card_reader="ok")  # back
    expect(offline).to_have_count(0, timeout=1000)
    assert page.evaluate("window.notReloaded") is True

    with httpx.Client(base_url=quick_stale_server.url, timeout=10) as anyone:  # an unknown kiosk is refused
        assert anyone.put("/api/v1/devices/me/status", json={"call_staff": True},
                          headers={"Authorization": "Bearer not-a-token"}).status_code == 401
