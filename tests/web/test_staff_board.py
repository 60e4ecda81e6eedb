"""The floor-guide board in Chromium against a live server: it follows the counters live without reload,
a guide pauses a counter and its console sees it, a counter account cannot use the board."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.web.test_line_breaks import LINES_JS
from tests.web.test_staff_console import sign_in
from tests.web.test_status_page import serious_violations, shoot

TABLET = {"width": 820, "height": 1180}


def test_board_follows_a_counter_live_and_pauses_it(live_server, browser):
    base = live_server.url
    ticket = live_server.client("kiosk").post("/api/v1/tickets", json={"life_event": "tennyu"}).json()
    guide = sign_in(browser, base, None, user="guide-e2e")
    guide.wait_for_url(f"{base}/staff/guide")
    c4_card = guide.locator("#counters li[data-counter='c4']")
    expect(c4_card).to_contain_text("空き")
    expect(guide.locator("#bands tr[data-band='onestop'] td.waiting")).to_have_text("1")
    guide.evaluate("window.notReloaded = true")

    console = sign_in(browser, base, "c4")
    console.click("#btn-call-next")
    clicked = time.monotonic()
    expect(c4_card).to_contain_text(ticket["display_number"], timeout=1000)
    print(f"counter click -> board updated in {(time.monotonic() - clicked) * 1000:.0f} ms")
    expect(guide.locator("#bands tr[data-band='onestop'] td.waiting")).to_have_text("0")
    assert guide.evaluate("window.notReloaded") is True
    shoot(guide, "staff-guide-board-1366")
    assert not serious_violations(guide)

    c4_card.locator("button[data-action='pause']").click()
    expect(c4_card).to_have_attribute("data-state", "paused")
    expect(console.locator("#counter-state")).to_have_text("一時休止", timeout=1000)  # pushed to the console
    close = c4_card.locator("button[data-action='close']")
    close.click()  # busy with a visit: refused, and the guide is told why
    expect(guide.locator("#message")).not_to_be_empty()
    expect(c4_card).to_have_attribute("data-state", "paused")
    c4_card.locator("button[data-action='open']").click()
    expect(c4_card).to_have_attribute("data-state", "open")

    guide.set_viewport_size(TABLET)
    shoot(guide, "staff-guide-board-tablet")
    assert not serious_violations(guide)
    broken = [lines for lines in guide.evaluate(LINES_JS, "#counters button") if len(lines) > 1]
    assert not broken, f"buttons broken over lines on a tablet: {broken}"  # 移す was 移 / す


def test_a_counter_account_cannot_use_the_board_and_posts_need_the_token(live_server, browser):
    base = live_server.url
    console = sign_in(browser, base, "c4")
    token = console.locator("#console").get_attribute("data-csrf")
    console.goto(f"{base}/staff/guide")
    expect(console.locator("p.error")).to_contain_text("フロア案内")
    refused = console.request.post(f"{base}/staff/guide/counters/c5/pause", form={"csrf": token},
                                   headers={"Accept": "application/json"})
    assert refused.status == 403 and refused.json()["code"] == "guide_only"
    view = console.request.get(f"{base}/staff/guide/state")
    assert view.status == 403 and view.json() == {"code": "guide_only"}

    guide = sign_in(browser, base, None, user="guide-e2e")
    guide.wait_for_url(f"{base}/staff/guide")
    no_token = guide.request.post(f"{base}/staff/guide/counters/c5/pause", form={},
                                  headers={"Accept": "application/json"})
    assert no_token.status == 403 and no_token.json()["code"] == "csrf_refused"
    assert guide.request.get(f"{base}/staff/counter").status == 403  # no counter: no console
    view = guide.request.get(f"{base}/staff/counter/state")
    assert view.status == 403 and view.json() == {"code": "counter_session_required"}
    counters = {c["id"]: c for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert counters["c5"]["state"] == "open"


def test_a_counter_moved_to_another_band_calls_from_that_band(live_server, browser):
    base = live_server.url
    kiosk = live_server.client("kiosk")
    simple = kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json()
    onestop = kiosk.post("/api/v1/tickets", json={"life_event": "tennyu"}).json()
    assert simple["band"] == "simple" and onestop["band"] == "onestop"
    guide = sign_in(browser, base, None, user="guide-e2e")
    guide.wait_for_url(f"{base}/staff/guide")
    c1_card = guide.locator("#counters li[data-counter='c1']")
    expect(c1_card).to_contain_text("かんたん窓口")
    guide.select_option("#band-c1", "onestop")
    guide.locator("h1").first.click()  # the list loses the focus, as on a tablet once a band is tapped
    kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]})  # the board redraws meanwhile
    expect(guide.locator("#bands tr[data-band='simple'] td.waiting")).to_have_text("2")
    expect(guide.locator("#band-c1")).to_have_value("onestop")  # the choice survived the redraw
    c1_card.locator("button.move").click()
    expect(c1_card.locator(".skills")).to_have_text("ワンストップ窓口")
    counters = {c["id"]: c for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert counters["c1"]["skills"] == ["onestop"]

    console = sign_in(browser, base, "c1")
    console.keyboard.press("n")
    expect(console.locator("#number")).to_have_text(onestop["display_number"])  # not the older simple one
    expect(c1_card).to_contain_text(onestop["display_number"], timeout=1000)

    token = guide.locator("#board").get_attribute("data-csrf")
    unknown = guide.request.post(f"{base}/staff/guide/counters/c2/band", form={"csrf": token, "band": "nope"},
                                 headers={"Accept": "application/json"})
    assert unknown.status == 422 and unknown.json()["code"] == "band_unknown"


def test_a_guide_sets_priority_flags_on_a_waiting_visit_and_the_console_sees_them(live_server, browser):
    base = live_server.url
    ticket = live_server.client("kiosk").post("/api/v1/tickets", json={"life_event": "tennyu"}).json()
    guide = sign_in(browser, base, None, user="guide-e2e")
    guide.wait_for_url(f"{base}/staff/guide")
    row = guide.locator(f"#waiting tr[data-ticket='{ticket['id']}']")
    expect(row).to_contain_text(ticket["display_number"])
    row.get_by_label("車いす").check()
    row.get_by_label("通訳").check()
    row.locator("button").click()
    expect(row.get_by_label("車いす")).to_be_checked()
    staff_view = {t["id"]: t for t in live_server.client("guide").get("/api/v1/counters/c4/queue").json()}
    assert staff_view[ticket["id"]]["priority"] == ["interpreter", "wheelchair"]
    shoot(guide, "staff-guide-board-priority-1366")
    assert not serious_violations(guide)

    console = sign_in(browser, base, "c4")
    console.keyboard.press("n")
    expect(console.locator("#flags")).to_contain_text("車いす")
    expect(console.locator("#flags")).to_contain_text("通訳")
    expect(row).to_have_count(0, timeout=1000)  # called: no longer waiting on the board

    token = guide.locator("#board").get_attribute("data-csrf")
    bad = guide.request.post(f"{base}/staff/guide/tickets/{ticket['id']}/priority",
                             form={"csrf": token, "priority": "vip"}, headers={"Accept": "application/json"})
    assert bad.status == 422


def test_a_guide_issues_a_ticket_by_hand_once_per_form(live_server, browser):
    base = live_server.url
    guide = sign_in(browser, base, None, user="guide-e2e")
    guide.wait_for_url(f"{base}/staff/guide")
    guide.select_option("#manual-procedure", "juminhyo")
    guide.select_option("#manual-language", "en")
    guide.locator("#manual").get_by_label("高齢").check()
    guide.click("#manual button[type=submit]")
    expect(guide.locator("#manual-result")).to_contain_text("発券しました")
    number = guide.locator("#manual-result").inner_text().split(":")[1].split("番")[0].strip()
    row = guide.locator("#waiting tr", has_text=number)
    expect(row).to_contain_text("English")
    expect(row.get_by_label("高齢")).to_be_checked()
    shoot(guide, "staff-guide-board-manual-1366")
    assert not serious_violations(guide)

    token = guide.locator("#board").get_attribute("data-csrf")
    form = {"csrf": token, "key": "same-form-0001", "procedure": "juminhyo", "language": "ja"}
    first = guide.request.post(f"{base}/staff/guide/tickets", form=form, headers={"Accept": "application/json"})
    again = guide.request.post(f"{base}/staff/guide/tickets", form=form, headers={"Accept": "application/json"})
    assert first.status == 201 and again.status == 200 and first.json()["id"] == again.json()["id"]
    unknown = guide.request.post(f"{base}/staff/guide/tickets", form={**form, "key": "other-form-01",
                                                                       "procedure": "nope"},
                                 headers={"Accept": "application/json"})
    assert unknown.status in (404, 422)
    no_token = guide.request.post(f"{base}/staff/guide/tickets", form={**form, "csrf": ""})
    assert no_token.status == 403


def test_the_servers_suggestion_is_shown_with_its_effect_and_accepted(live_server, browser):
    base = live_server.url
    kiosk = live_server.client("kiosk")
    for _ in range(40):  # a flooded simple band, idle one-stop counters: the server suggests a move
        assert kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).status_code == 201
    before = {c["id"]: c["skills"] for c in live_server.client("guide").get("/api/v1/counters").json()}
    guide = sign_in(browser, base, None, user="guide-e2e")
    guide.wait_for_url(f"{base}/staff/guide")
    first = guide.locator("#suggestions li[data-suggestion]").first
    expect(first).to_contain_text("かんたん窓口")
    expect(first).to_contain_text("→")
    shoot(guide, "staff-guide-board-suggestion-1366")
    assert not serious_violations(guide)
    suggestion_id = first.get_attribute("data-suggestion")
    first.locator("button[data-action='accept']").click()
    expect(guide.locator(f"#suggestions li[data-suggestion='{suggestion_id}']")).to_have_count(0)
    after = {c["id"]: c["skills"] for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert after != before  # the suggested counter now serves the band that was behind

    other = guide.locator("#suggestions li[data-suggestion]").first
    if other.count():
        gone = other.get_attribute("data-suggestion")
        other.locator("button[data-action='dismiss']").click()
        expect(guide.locator(f"#suggestions li[data-suggestion='{gone}']")).to_have_count(0)
