"""The resident's status page in a real browser: readable, accessible, in their language, no personal data."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_NAME, leaked_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CARD = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": "1958-04-12", "sex": "2"}
FAMILY = {"life_event": "tennyu", "answers": {"household": [{"age": 40, "relation": "self"},
                                                             {"age": 8, "relation": "child"}]}}


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_status_page_on_a_phone_follows_the_visit_and_passes_axe(live_server, phone):
    kiosk, counter = live_server.client("kiosk"), live_server.client("counter")
    kiosk.post("/api/v1/tickets", json=FAMILY)  # someone ahead
    ticket = kiosk.post("/api/v1/tickets", json={**FAMILY, "card": CARD}).json()

    phone.goto(ticket["status_url"])
    assert phone.locator(".number").inner_text() == ticket["display_number"]
    assert "あなたの前に 1 人" in phone.locator(".facts").inner_text()
    assert phone.title() == f"受付番号 {ticket['display_number']} — 中央区役所"
    assert phone.content().count("setInterval(check") == 1, "the page follows the visit while it waits, once"
    assert not leaked_in(phone.content())
    assert serious_violations(phone) == []
    shoot(phone, "status-waiting-ja")

    counter.post("/api/v1/counters/c4/call-next")
    counter.post("/api/v1/counters/c5/call-next")
    phone.goto(ticket["status_url"] + "?lang=vi")
    assert phone.locator("html").get_attribute("lang") == "vi"
    assert "Vui lòng đến Quầy số 5" in phone.locator(".status").inner_text()
    assert serious_violations(phone) == []
    shoot(phone, "status-called-vi")

    phone.goto(ticket["status_url"] + "?lang=ne")
    assert "कृपया" in phone.locator(".status").inner_text()
    shoot(phone, "status-called-ne")

    counter.post("/api/v1/counters/c5/start")
    statuses = []
    for _ in ticket["plan"]:  # bounded: one finish per step at most
        statuses.append(counter.post("/api/v1/counters/c5/finish").json()["ticket"]["status"])
        if statuses[-1] != "serving":
            break
    assert statuses[-1] == "done", statuses
    phone.goto(ticket["status_url"])
    assert "すべての手続きが終わりました" in phone.locator(".status").inner_text()
    phone.locator("input[name=rating][value='5']").check()
    phone.locator("textarea").fill("とても親切でした")
    phone.locator("button[type=submit]").click()
    phone.wait_for_url("**thanks=1**")
    assert "ご意見ありがとうございました" in phone.locator("main").inner_text()  # as read (no <wbr>)
    shoot(phone, "status-done-ja")
