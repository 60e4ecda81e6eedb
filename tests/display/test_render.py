"""The board as drawn: screenshots at three sizes in every language (var/screenshots/display/, to look at),
no missing glyph anywhere, Devanagari shaped, the number large, the notice when the board is not live.
"""

from __future__ import annotations

import datetime as dt
import re

import pygame
import pytest

from madoguchi.common.fonts import shaping_script
from madoguchi.common.i18n import catalog, message
from madoguchi.display.board import Board
from madoguchi.display.fonts import font_file, missing_glyphs, text_font
from madoguchi.display.layout import MIN_NUMBER_SHARE, compute
from madoguchi.display.render import Frame, Renderer
from madoguchi.display.settings import LANGUAGES, load_settings
from madoguchi.display.text import date_text
from tests.display.conftest import SCREENSHOTS
from tests.display.samples import AT, BAND_LABELS, busy_calls, call, counter_label, state

SIZES = [(1920, 1080), (1280, 720), (1080, 1920)]
SETTINGS = load_settings(None, "chuo")


def board(trusted: bool = True) -> Board:
    b = Board(highlight_s=10, stale_after_s=60)
    b.set_connected(trusted)
    b.set_server_online(True)
    b.apply_state(state(20, busy_calls()), 0)
    b.apply_call(call(21, 312, 3), 1)
    return b


def draw(size, language: str, b: Board, audio: str = "ok") -> tuple[pygame.Surface, object]:
    surface = pygame.Surface(size)
    drawn = Renderer(compute(*size)).draw(surface, Frame(b.view(2), language, AT, audio, SETTINGS.message,
                                                         SETTINGS.site_name))
    return surface, drawn


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_screenshot_with_calls_in_every_language_and_size(size, language):
    surface, drawn = draw(size, language, board())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(SCREENSHOTS / f"board-{language}-{size[0]}x{size[1]}.png"))
    assert drawn.number is not None and drawn.number.h >= MIN_NUMBER_SHARE * size[1]
    # the call's area is highlighted (gold) and the number has ink in it
    ink = sum(1 for x in range(drawn.number.left, drawn.number.right, 4)
              if surface.get_at((x, drawn.number.centery))[:3] == (0, 0, 0))
    assert ink > 3, "the number's strokes are drawn"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_screenshot_of_the_notice_when_the_board_cannot_be_trusted(size):
    surface, _ = draw(size, "en", board(trusted=False), audio="failed")
    pygame.image.save(surface, str(SCREENSHOTS / f"notice-{size[0]}x{size[1]}.png"))
    layout = compute(*size)
    # the notice replaces the waits: its area is white (black words on white), no band panels
    assert surface.get_at((layout.notice.x + 4, layout.notice.y + layout.notice.h // 2))[:3] == (255, 255, 255)


def test_an_empty_board_says_no_call_yet():
    b = Board(10, 60)
    b.set_connected(True)
    b.apply_state(state(1), 0)
    surface, drawn = draw((1280, 720), "ja", b)
    pygame.image.save(surface, str(SCREENSHOTS / "empty-ja-1280x720.png"))
    assert drawn.number is None


def display_strings(language: str) -> list[str]:
    # placeholders are filled with digits (and counter labels, checked below) when drawn
    texts = [re.sub(r"\{[^}]*\}", "0123456789", text) for (ctx, _), text in catalog(language).items()
             if ctx == "display"]
    texts += [label[language] for label in BAND_LABELS.values()]
    texts += [counter_label(n)[language] for n in range(1, 14)]
    texts += [message("display", "notice", language), date_text(dt.date(2026, 12, 2), language)]
    texts += [SETTINGS.message.get(language, ""), SETTINGS.site_name.get(language, "")]
    return texts


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_missing_glyph_in_any_display_text(language):
    assert len(catalog(language)) and any(ctx == "display" for ctx, _ in catalog(language))
    for weight in ("regular", "bold"):
        file = font_file(language, weight)
        for text in display_strings(language):
            assert missing_glyphs(file, text) == [], f"{language} {weight} {file.path.name}: {text!r}"


def test_the_glyph_check_finds_tofu():
    latin = font_file("en", "regular")
    assert missing_glyphs(latin, "नम्बर") != []


def test_every_display_message_exists_in_every_language():
    keys = {key for (ctx, key) in catalog("ja") if ctx == "display"}
    assert len(keys) > 20
    for language in LANGUAGES:
        theirs = {key for (ctx, key) in catalog(language) if ctx == "display"}
        assert theirs == keys, f"{language}: missing {sorted(keys - theirs)}"


def test_devanagari_is_shaped_with_the_deva_script():
    assert shaping_script("ne") == "Deva"
    pygame.font.init()
    text = "सामान्य प्रक्रिया"
    shaped = text_font("ne", 48).render(text, (255, 255, 255))
    plain = pygame.font.Font(str(font_file("ne", "regular").path), 48).render(text, True, (255, 255, 255))
    assert pygame.image.tobytes(shaped, "RGBA") != pygame.image.tobytes(plain, "RGBA"), \
        "set_script('Deva') must change how conjuncts are formed"


def test_japanese_uses_the_universal_design_typeface_when_installed():
    path = font_file("ja", "regular").path
    assert path.name.startswith("BIZUDP"), path


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_four_digit_number_still_fits_at_the_required_height(size):
    b = Board(10, 60)
    b.set_connected(True)
    b.set_server_online(True)
    b.apply_state(state(1), 0)
    b.apply_call(call(2, 9999, 13), 1)
    _surface, drawn = draw(size, "ja", b)
    layout = compute(*size)
    assert drawn.number.h >= MIN_NUMBER_SHARE * size[1]
    assert drawn.number.left >= layout.number.x and drawn.number.right <= layout.number.right


def test_japanese_wraps_at_phrase_ends_before_characters():
    from madoguchi.display.render import wrap
    text = "ただいま表示を更新できません。番号は窓口でお呼びします。"
    assert wrap(text, "ja", 16, len) == ["ただいま表示を更新できません。", "番号は窓口でお呼びします。"]
    assert all(not line.startswith(("、", "。")) for line in wrap(text, "ja", 5, len))
    assert wrap("This screen cannot be updated", "en", 12, len) == ["This screen", "cannot be", "updated"]
