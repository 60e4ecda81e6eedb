"""Staff pages bench for `make bench`: a counter's click in one browser → the floor-guide board updated in
another (server-sent events), p50/p99; the click → the console's own view updated is the baseline.

A live `madoguchi serve` (no MQTT: the staff stream does not depend on it) and two Debian Chromium
browsers driven by Playwright. Both pages stamp times with ``Date.now()`` on the same machine.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.live import STAFF_PASSWORD, LiveServer
from tests.web.conftest import CHROMIUM_FLAGS

CLICKS = 100
WATCH = """() => {
  window.seen = [];
  const list = document.getElementById("counters");
  new MutationObserver(() => {
    const card = list.querySelector("li[data-counter='c1'] .serving");
    if (card) { window.seen.push([card.textContent, Date.now()]); }
  }).observe(list, {childList: true, subtree: true, characterData: true});
}"""
FIRST_SEEN = "n => { const hit = window.seen.find(e => e[0].includes(' ' + n + ' ')); return hit ? hit[1] : null; }"
CLICK = "() => { const t = Date.now(); document.getElementById('btn-call-next').click(); return t; }"


def sign_in(browser, base: str, user: str, counter: str | None):
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#username", user)
    page.fill("#password", STAFF_PASSWORD)
    if counter:
        page.select_option("#counter", counter)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("#live:has-text('自動更新中')")
    return page


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "data")
        server.prepare_accounts()
        server.start("--no-mqtt")
        try:
            kiosk = server.client("kiosk")
            numbers = [kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json()["display_number"]
                       for _ in range(CLICKS)]
            with sync_playwright() as playwright:
                board_browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
                console_browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                             args=CHROMIUM_FLAGS)
                board = sign_in(board_browser, server.url, "guide-e2e", None)
                console = sign_in(console_browser, server.url, "counter-e2e", "c1")
                board.evaluate(WATCH)
                to_board, to_console = [], []
                for number in numbers:
                    clicked = console.evaluate(CLICK)
                    console.wait_for_function("n => document.getElementById('number').textContent === n", arg=number)
                    to_console.append(console.evaluate("Date.now()") - clicked)
                    board.wait_for_function(FIRST_SEEN, arg=number)
                    to_board.append(board.evaluate(FIRST_SEEN, number) - clicked)
                    console.keyboard.press("x")  # no-show: the counter is free for the next call
                    expect(console.locator("#number")).to_have_text("—")
                board_browser.close()
                console_browser.close()
        finally:
            server.stop()
    rows = [("console's own view (baseline; polled by Playwright)", to_console), ("board in another browser", to_board)]
    lines = ["## Staff pages: counter click → another browser's board (server-sent events)", "",
             f"`python -m tests.bench.run bench_staff`: {CLICKS} calls from a console at c1 (Chromium), the "
             "floor-guide board open in a second Chromium; times from the click to the number drawn, by "
             "`Date.now()` in both pages.", "",
             "| measure | p50 ms | p99 ms | max ms |", "|---|---|---|---|"]
    for name, values in rows:
        lines.append(f"| {name} | {statistics.median(values):.0f} | {percentile(values, 0.99):.0f} | "
                     f"{max(values):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
