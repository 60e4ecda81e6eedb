"""The floor-guide board moves a counter to single procedures (not a whole band) in Chromium against a live
server: the counter then calls the visits waiting for those procedures first; unknown procedures are 422."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.test_staff_console import sign_in


def test_a_counter_moved_to_single_procedures_calls_those_next(live_server, browser):
    base = live_server.url
    kiosk = live_server.client("kiosk")
    older = kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json()
    seal = kiosk.post("/api/v1/tickets", json={"procedures": ["inkan"]}).json()
    assert older["band"] == seal["band"] == "simple"
    guide = sign_in(browser, base, None, user="guide-e2e")
    guide.wait_for_url(f"{base}/staff/guide")
    c1_card = guide.locator("#counters li[data-counter='c1']")
    expect(c1_card.locator("p.skills")).to_have_text("かんたん窓口")
    chooser = c1_card.locator("details.skills-chooser")
    chooser.locator("summary").click()
    chooser.locator("input[value='inkan']").check()
    chooser.locator("button[type=submit]").click()
    expect(c1_card.locator("p.skills")).to_have_text("印鑑登録")
    counters = {c["id"]: c for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert counters["c1"]["skills"] == ["inkan"]

    console = sign_in(browser, base, "c1")
    console.keyboard.press("n")
    expect(console.locator("#number")).to_have_text(seal["display_number"])  # not the older 住民票
    expect(c1_card).to_contain_text(seal["display_number"], timeout=1000)

    token = guide.locator("#board").get_attribute("data-csrf")
    for form in ({"procedure": "nope"}, {}, {"procedure": ["inkan", "onestop"]}):
        refused = guide.request.post(f"{base}/staff/guide/counters/c2/skills", form={"csrf": token, **form},
                                     headers={"Accept": "application/json"})
        assert refused.status == 422 and refused.json()["code"] == "skill_unknown", form
    no_token = guide.request.post(f"{base}/staff/guide/counters/c2/skills", form={"procedure": "inkan"},
                                  headers={"Accept": "application/json"})
    assert no_token.status == 403
    counters = {c["id"]: c for c in live_server.client("guide").get("/api/v1/counters").json()}
    assert counters["c2"]["skills"] == ["simple"]
