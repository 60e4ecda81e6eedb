"""The staff counter console in Debian's Chromium against a live server: sign-in, two consoles, live updates
pushed by the server (no reload), CSRF and counter binding, card data only while served, axe, screenshots."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.live import STAFF_PASSWORD
from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_NAME, leaked_in
from tests.web.test_status_page import serious_violations, shoot

CARD = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": "1958-04-12", "sex": "2"}
TENNYU = {"life_event": "tennyu", "card": CARD, "language": "vi", "priority": ["wheelchair"]}
DESKTOP = {"width": 1366, "height": 768}


def sign_in(browser, base: str, counter: str | None, lang: str = "ja", user: str = "counter-e2e"):
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{base}/staff/login?lang={lang}")
    page.fill("#username", user)
    page.fill("#password", STAFF_PASSWORD)
    if counter:
        page.select_option("#counter", counter)
    page.click("form.login button[type=submit]")
    if counter:
        page.wait_for_url(f"{base}/staff/counter")
        expect(page.locator("#live")).to_have_text(re.compile("自動更新中|Live updates on"))
    return page


def test_two_consoles_call_serve_finish_with_live_updates_and_no_card_left(live_server, browser):
    kiosk = live_server.client("kiosk")
    first = kiosk.post("/api/v1/tickets", json=TENNYU).json()
    second = kiosk.post("/api/v1/tickets", json={"life_event": "tennyu"}).json()
    c4 = sign_in(browser, live_server.url, "c4")
    c5 = sign_in(browser, live_server.url, "c5")
    shoot(c4, "staff-console-idle-1366")
    expect(c5.locator("#waiting")).to_contain_text("2")
    c5.evaluate("window.notReloaded = true")

    c4.keyboard.press("n")  # keyboard shortcut: call next
    clicked = time.monotonic()
    expect(c4.locator("#number")).to_have_text(first["display_number"])
    expect(c5.locator("#waiting")).to_contain_text("1", timeout=1000)  # pushed to the other browser
    pushed_s = time.monotonic() - clicked
    assert pushed_s < 1.0, pushed_s
    print(f"counter click -> other console updated in {pushed_s * 1000:.0f} ms")
    assert c5.evaluate("window.notReloaded") is True  # updated in place, not reloaded
    expect(c4.locator("#status")).to_contain_text("呼出中")
    expect(c4.locator("#flags")).to_contain_text("Tiếng Việt")
    expect(c4.locator("#flags")).to_contain_text("車いす")
    expect(c4.locator("#btn-start")).to_be_enabled()
    expect(c4.locator("#btn-call-next")).to_be_disabled()
    expect(c4.locator("#card-section")).to_be_hidden()  # called, not yet served: no card data
    assert TEST_HOLDER_NAME not in c4.content()

    c4.click("#btn-start")
    expect(c4.locator("#status")).to_contain_text("対応中")
    expect(c4.locator("#card")).to_contain_text(TEST_HOLDER_NAME)
    expect(c4.locator("#card")).to_contain_text(TEST_HOLDER_ADDRESS)
    expect(c4.locator("#card")).to_contain_text("女")  # sex code 2 as a word
    expect(c4.locator("#plan li").first).to_contain_text("この窓口")
    shoot(c4, "staff-console-serving-1366")

    c5.click("#btn-call-next")
    expect(c5.locator("#number")).to_have_text(second["display_number"])
    c5.keyboard.press("s")
    expect(c5.locator("#status")).to_contain_text("対応中")
    assert not leaked_in(c5.content())  # the other visit's card is on its own console only

    c4.select_option("#outcome", "done")
    c4.click("#btn-finish")
    expect(c4.locator("#number")).to_have_text("—")
    expect(c4.locator("#card-section")).to_be_hidden()
    assert not leaked_in(c4.content()), "card data gone from the page once the visit ended"
    c5.keyboard.press("f")
    expect(c5.locator("#number")).to_have_text("—")

    counters = {c["id"]: c for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert counters["c4"]["serving"] is None and counters["c5"]["serving"] is None
    assert not leaked_in(live_server.log())


def test_forms_without_csrf_token_and_other_counters_are_refused(live_server, browser):
    base = live_server.url
    page = sign_in(browser, base, "c4")
    live_server.client("kiosk").post("/api/v1/tickets", json={"life_event": "tennyu"})
    token = page.locator("#console").get_attribute("data-csrf")
    assert token
    no_token = page.request.post(f"{base}/staff/counters/c4/call-next", form={})
    assert no_token.status == 403
    wrong = page.request.post(f"{base}/staff/counters/c4/call-next", form={"csrf": "0" * 64},
                              headers={"Accept": "application/json"})
    assert wrong.status == 403 and wrong.json()["code"] == "csrf_refused"
    other = page.request.post(f"{base}/staff/counters/c5/call-next", form={"csrf": token},
                              headers={"Accept": "application/json"})
    assert other.status == 403 and other.json()["code"] == "counter_not_yours"
    foreign = page.request.post(f"{base}/staff/counters/c4/call-next", form={"csrf": token},
                                headers={"Accept": "application/json", "Origin": "http://evil.example"})
    assert foreign.status == 403 and foreign.json()["code"] == "csrf_refused"  # another site's page
    bad_outcome = page.request.post(f"{base}/staff/counters/c4/finish", form={"csrf": token, "outcome": "lost"},
                                    headers={"Accept": "application/json"})
    assert bad_outcome.status == 422 and bad_outcome.json()["code"] == "outcome_invalid"
    unknown = page.request.post(f"{base}/staff/counters/c4/explode", form={"csrf": token},
                                headers={"Accept": "application/json"})
    assert unknown.status == 404
    api_other = page.request.post(f"{base}/api/v1/counters/c5/call-next")
    assert api_other.status == 403
    # the JSON API takes the browser's cookie for reads only: an action with it alone (no CSRF) is refused
    api_own = page.request.post(f"{base}/api/v1/counters/c4/call-next")
    assert api_own.status == 403 and api_own.json()["code"] == "cookie_read_only", api_own.text()
    assert page.request.get(f"{base}/api/v1/counters/c4/queue").status == 200
    counters = {c["id"]: c for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert counters["c4"]["serving"] is None and counters["c5"]["serving"] is None  # nothing was called

    # a form posted without its token shows a refusal page, in the browser, and calls nobody
    page.evaluate("document.querySelector('form[data-action=\"call-next\"] input[name=csrf]').remove()")
    page.evaluate("HTMLFormElement.prototype.submit.call(document.querySelector('form[data-action=\"call-next\"]'))")
    expect(page.locator("p.error")).to_contain_text("トークン")
    counters = {c["id"]: c for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert counters["c4"]["serving"] is None

    login_without_token = page.request.post(f"{base}/staff/login", form={
        "username": "counter-e2e", "password": STAFF_PASSWORD, "counter": "c5"})
    assert login_without_token.status == 403


def test_sign_in_refusals_show_on_the_form_and_sign_out_ends_the_session(live_server, browser):
    base = live_server.url
    page = sign_in(browser, base, None, lang="en")
    expect(page.locator("#login-error")).to_have_text("A counter account must sign in at a counter.")
    page.fill("#password", "wrong-password")
    page.select_option("#counter", "c4")
    page.click("form.login button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
    assert page.locator("#username").input_value() == "counter-e2e"  # what was typed is kept (not the password)
    shoot(page, "staff-login-error-en-1366")
    assert not serious_violations(page)

    page.fill("#password", STAFF_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}/staff/counter")
    expect(page.locator("#btn-call-next")).to_contain_text("Call next")
    page.click("form.logout button")
    page.wait_for_url(f"{base}/staff/login")
    assert page.request.get(f"{base}/staff/counter/state").status == 401
    page.goto(f"{base}/staff/counter")
    assert page.url == f"{base}/staff/login"


def test_pages_pass_axe_and_are_shot_at_desktop_and_tablet(live_server, browser):
    base = live_server.url
    anonymous = browser.new_context(viewport=DESKTOP, locale="ja-JP").new_page()
    anonymous.goto(f"{base}/staff/login")
    shoot(anonymous, "staff-login-1366")
    assert not serious_violations(anonymous)
    anonymous.set_viewport_size({"width": 820, "height": 1180})
    shoot(anonymous, "staff-login-tablet")

    guide = sign_in(browser, base, None, user="guide-e2e")
    guide.goto(f"{base}/staff/counter")  # a guide has no console: a refusal page, in words
    expect(guide.locator("p.error")).to_have_text("窓口を選んでサインインした窓口担当だけが使えます。")
    shoot(guide, "staff-refused-1366")
    assert not serious_violations(guide)
    guide.set_viewport_size({"width": 820, "height": 1180})
    shoot(guide, "staff-refused-tablet")
    assert not serious_violations(guide)

    live_server.client("kiosk").post("/api/v1/tickets", json=TENNYU)
    page = sign_in(browser, base, "c4")
    assert not serious_violations(page)
    page.click("#btn-call-next")
    page.click("#btn-start")
    expect(page.locator("#card")).to_contain_text(TEST_HOLDER_NAME)
    assert not serious_violations(page)
    page.set_viewport_size({"width": 1024, "height": 768})
    shoot(page, "staff-console-serving-tablet")
    page.goto(f"{base}/staff/counter?lang=en")
    expect(page.locator("#card")).to_contain_text(TEST_HOLDER_NAME)
    expect(page.locator("#status")).to_contain_text("Serving")
    page.set_viewport_size(DESKTOP)
    shoot(page, "staff-console-serving-en-1366")
    assert not serious_violations(page)


def test_call_out_of_order_with_a_reason_hold_and_back_and_away(live_server, browser):
    kiosk = live_server.client("kiosk")
    first, _, third = (kiosk.post("/api/v1/tickets", json={"life_event": "tennyu"}).json() for _ in range(3))
    page = sign_in(browser, live_server.url, "c4")
    expect(page.locator("#queue li")).to_have_count(3)
    call_third = page.locator(f"#queue button[data-ticket='{third['id']}']")
    call_third.click()  # without a reason: refused on the page, nobody called
    expect(page.locator("#message")).to_have_text("順番を飛ばして呼ぶ理由を入力してください。")
    expect(page.locator("#number")).to_have_text("—")
    page.fill("#reason", "予約の方")
    call_third.click()
    expect(page.locator("#number")).to_have_text(third["display_number"])
    expect(page.locator("#reason")).to_have_value("")
    shoot(page, "staff-console-called-out-of-order-1366")

    page.click("#btn-hold")  # on hold: listed again, and called back with a reason
    expect(page.locator("#number")).to_have_text("—")
    held = page.locator(f"#queue li:has(button[data-ticket='{third['id']}'])")
    expect(held).to_contain_text("保留中")
    page.fill("#reason", "書類がそろった")
    held.locator("button").click()
    expect(page.locator("#number")).to_have_text(third["display_number"])
    page.click("#btn-start")
    page.click("#btn-finish")
    expect(page.locator("#number")).to_have_text("—")

    page.keyboard.press("p")  # away: the counter pauses, calls nobody new
    expect(page.locator("#counter-state")).to_have_text("一時休止")
    expect(page.locator("#btn-call-next")).to_be_disabled()
    counters = {c["id"]: c for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert counters["c4"]["state"] == "paused"
    assert not serious_violations(page)
    page.keyboard.press("p")
    expect(page.locator("#counter-state")).to_have_text("開設中")
    page.keyboard.press("n")
    expect(page.locator("#number")).to_have_text(first["display_number"])


def test_an_open_console_keeps_working_across_a_server_restart(live_server, browser):
    page = sign_in(browser, live_server.url, "c4")
    key = live_server.data_dir / "staff-csrf.key"
    assert key.stat().st_mode & 0o077 == 0  # the CSRF key is the server's alone
    live_server.stop()
    live_server.start("--no-mqtt")
    live_server.client("kiosk").post("/api/v1/tickets", json={"life_event": "tennyu"})
    expect(page.locator("#live")).to_have_text("自動更新中", timeout=10_000)  # the stream came back by itself
    page.click("#btn-call-next")
    expect(page.locator("#number")).not_to_have_text("—")  # same page, same token: accepted
    expect(page.locator("#message")).to_be_empty()
