"""Japanese on the status page breaks lines by 禁則 in a real browser: between phrases, never 「い。」 alone."""

from __future__ import annotations

from pathlib import Path

import budoux

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CLOSING = "、。，．）」』】〕ー"
TEXTS = ".status, .facts p, h2, form .scale, label[for=comment], .updated, ol.plan li"
# the lines of each element as the browser laid them out: characters grouped by the top of their box
LINES_JS = """(selector) => Array.from(document.querySelectorAll(selector)).map((element) => {
  const lines = []; let text = ""; let lastTop = null;
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest(".state")) { continue; }  // the step's badge is a box of its own
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
      const boxes = range.getClientRects();
      if (!boxes.length) { continue; }
      const top = Math.round(boxes[0].top);
      if (lastTop !== null && Math.abs(top - lastTop) > 4) { lines.push(text); text = ""; }
      lastTop = top; text += node.data[i];
    }
  }
  if (text) { lines.push(text); }
  return lines.map((line) => line.replace(/\\s+/g, "")).filter((line) => line.length);
})"""
PARSER = budoux.load_default_japanese_parser()


def phrase_boundaries(text: str) -> tuple[set[int], int]:
    """Offsets where BudouX allows a break in ``text``, and its longest phrase."""
    offsets, at, longest = set(), 0, 0
    for phrase in PARSER.parse(text):
        at += len(phrase)
        offsets.add(at)
        longest = max(longest, len(phrase))
    return offsets, longest


def badly_broken(lines: list[str]) -> list[str]:
    """What a Japanese reader would notice: a lone syllable, a line that starts with 。, a cut word."""
    problems = []
    if len(lines) < 2:
        return problems
    joined = "".join(lines)
    boundaries, longest = phrase_boundaries(joined)
    at = 0
    for line in lines:
        if line[0] in CLOSING:
            problems.append(f"line starts with closing punctuation: {lines}")
        if len(line.rstrip(CLOSING)) <= 1:
            problems.append(f"lone character on a line: {lines}")
        at += len(line)
        if at < len(joined) and at not in boundaries and max(map(len, lines)) > longest:
            problems.append(f"break inside a phrase after {line!r}: {lines}")
    return problems


def test_japanese_breaks_only_between_phrases_at_every_phone_width(live_server, browser):
    kiosk, counter = live_server.client("kiosk"), live_server.client("counter")
    waiting = kiosk.post("/api/v1/tickets", json={"life_event": "okuyami", "answers": {
        "deceased_age": "from_75", "deceased_pension": True}}).json()
    done = kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json()
    for action in ("call-next", "start", "finish"):
        assert counter.post(f"/api/v1/counters/c1/{action}").status_code == 200
    problems = []
    for width in range(300, 430, 12):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="ja-JP")
        page = context.new_page()
        for url in (waiting["status_url"], done["status_url"]):
            page.goto(url)
            assert page.locator(".status").inner_text()
            for lines in page.evaluate(LINES_JS, TEXTS):
                problems += [f"{width}px {url.rsplit('/', 1)[1][:6]}: {p}" for p in badly_broken(lines)]
        if width == 300:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "status-done-ja-300px.png"), full_page=True)
        context.close()
    assert problems == []
