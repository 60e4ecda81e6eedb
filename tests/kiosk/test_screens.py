"""Every screen in every language at 1920×1080 and 800×480: screenshots written for people to look at
(var/screenshots/kiosk/), no missing glyph, touch targets of at least 15 mm, nothing off screen."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from madoguchi.common.i18n import catalog as messages
from madoguchi.common.languages import LANGUAGE_NAMES
from madoguchi.kiosk.flow import State
from madoguchi.kiosk.theme import HIGH_CONTRAST, NORMAL, Layout, contrast_ratio
from tests.kiosk.gallery import stage
from tests.kiosk.glyphs import missing_glyphs
from tests.kiosk.kiosk_setup import running_kiosk
from tests.live import LiveServer

pytestmark = pytest.mark.usefixtures("kivy_window")

SIZES = [(1920, 1080), (800, 480)]
LANGUAGES = list(LANGUAGE_NAMES)
SCREENS = [state for state in State if state is not State.EXITING]
# Large text and high contrast on the screens with the most text.
VARIANT_SCREENS = [State.QUESTION, State.PLAN, State.PIN, State.CARD_CONFIRM, State.TICKET, State.HOUSEHOLD_AGE]
SHOTS = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", "var/screenshots/kiosk"))


def kiosk_keys(language: str) -> set[str]:
    return {key for (context, key) in messages(language) if context == "kiosk"}


def test_every_kiosk_message_is_translated_in_every_language() -> None:
    japanese = kiosk_keys("ja")
    assert len(japanese) > 80
    for language in LANGUAGES:
        assert kiosk_keys(language) == japanese, f"{language}: missing {sorted(japanese - kiosk_keys(language))}"


def test_both_palettes_keep_text_contrast_at_7_to_1() -> None:
    for palette in (NORMAL, HIGH_CONTRAST):
        for name, (text, background) in palette.pairs().items():
            assert contrast_ratio(text, background) >= 7.0, f"{palette.name}.{name}"


def test_touch_targets_are_15_mm_at_the_configured_dpi() -> None:
    assert Layout(800, 480, 96).touch_min_px == 57
    assert Layout(800, 480, 133).touch_min_px == 79  # a 7-inch 800×480 panel
    for dpi in (96, 133):
        for width, height in SIZES:
            assert Layout(width, height, dpi).button_height >= Layout(width, height, dpi).touch_min_px


def _rect(widget):  # type: ignore[no-untyped-def]
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, widget.width, widget.height


def check_screen(driver, layout: Layout, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    from kivy.uix.label import Label

    from madoguchi.kiosk.widgets import BigButton

    problems = []
    buttons = []
    for widget in driver.controller.root.walk():
        if not isinstance(widget, Label) or not widget.text:
            continue
        x, y, w, h = _rect(widget)
        scrolled = any(type(p).__name__ == "ScrollView" for p in _parents(widget))
        if not scrolled and (x < -1 or y < -1 or x + w > layout.width + 1 or y + h > layout.height + 1):
            problems.append(f"{where}: {widget.text[:30]!r} is off screen at {(int(x), int(y), int(w), int(h))}")
        if isinstance(widget, BigButton):
            buttons.append((widget, (x, y, w, h)))
            if w + 0.5 < layout.touch_min_px or h + 0.5 < layout.touch_min_px:
                problems.append(f"{where}: button {widget.kiosk_id} is {w:.0f}×{h:.0f} px, under 15 mm")
        if not scrolled and widget.texture_size[1] > h + 2 and not isinstance(widget, BigButton):
            problems.append(f"{where}: {widget.text[:30]!r} does not fit its box")
    for i, (a, ra) in enumerate(buttons):
        for b, rb in buttons[i + 1:]:
            if a.kiosk_id != "start" and b.kiosk_id != "start" and _overlap(ra, rb):
                problems.append(f"{where}: buttons {a.kiosk_id} and {b.kiosk_id} overlap")
    return problems


def _parents(widget):  # type: ignore[no-untyped-def]
    while widget.parent is not None and widget.parent is not widget:
        widget = widget.parent
        yield widget


def _overlap(a, b) -> bool:  # type: ignore[no-untyped-def]
    return a[0] < b[0] + b[2] - 1 and b[0] < a[0] + a[2] - 1 and a[1] < b[1] + b[3] - 1 and b[1] < a[1] + a[3] - 1


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_screenshots_of_every_screen_in_every_language_have_no_missing_glyph(
        live_server: LiveServer, size: tuple[int, int]) -> None:
    out = SHOTS / f"{size[0]}x{size[1]}"
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    shots = 0
    with running_kiosk(live_server.url, live_server.tokens["kiosk"], size=size) as driver:
        driver.wait_state(State.ATTRACT)
        layout = driver.controller.layout
        assert (layout.width, layout.height) == size
        variants = [(lang, {}) for lang in LANGUAGES]
        variants += [("ja", {"large_text": True}), ("ne", {"high_contrast": True}),
                     ("ja-easy", {"large_text": True, "high_contrast": True})]
        for language, options in variants:
            for state in SCREENS if not options else VARIANT_SCREENS:
                stage(driver.controller, state, language, **options)
                driver.pump(0.03)
                suffix = "".join(f"-{k}" for k in options)
                path = driver.controller.capture(out / f"{language}{suffix}-{state.value}.png")
                shots += 1
                for item in json.loads(path.with_suffix(".json").read_text(encoding="utf-8")):
                    gone = missing_glyphs(item["text"], item["font"])
                    if gone:
                        problems.append(f"{path.name}: {gone} missing in {Path(item['font']).name} "
                                        f"for {item['text'][:40]!r}")
                    if language == "ne" and "Devanagari" in item["font"] and item["script"] != "Deva":
                        problems.append(f"{path.name}: Nepali label without font_script_name='Deva'")
                problems += check_screen(driver, driver.controller.layout, path.name)
    assert shots == len(LANGUAGES) * len(SCREENS) + (len(variants) - len(LANGUAGES)) * len(VARIANT_SCREENS)
    assert not problems, "\n".join(problems[:40])


def test_portrait_screens_fit_too(live_server: LiveServer) -> None:
    """A kiosk screen mounted upright (1080×1920): every screen in Japanese and Nepali."""
    size = (1080, 1920)
    out = SHOTS / "1080x1920"
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with running_kiosk(live_server.url, live_server.tokens["kiosk"], size=size) as driver:
        driver.wait_state(State.ATTRACT)
        assert not driver.controller.layout.landscape
        for language in ("ja", "ne"):
            for state in SCREENS:
                stage(driver.controller, state, language)
                driver.pump(0.03)
                path = driver.controller.capture(out / f"{language}-{state.value}.png")
                for item in json.loads(path.with_suffix(".json").read_text(encoding="utf-8")):
                    if missing_glyphs(item["text"], item["font"]):
                        problems.append(f"{path.name}: missing glyphs in {item['text'][:40]!r}")
                problems += check_screen(driver, driver.controller.layout, path.name)
    assert not problems, "\n".join(problems[:40])
