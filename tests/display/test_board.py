"""The board's pure parts: what a resident reads, from the state and the calls; layout; words; settings."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.common.cli import CommandError
from madoguchi.common.protocol import SeenCalls
from madoguchi.display.board import Board
from madoguchi.display.layout import MIN_NUMBER_SHARE, compute, parse_size
from madoguchi.display.render import PALETTE_PAIRS
from madoguchi.display.settings import DisplaySettings, load_settings
from madoguchi.display.text import announcement, date_text, era_year
from tests.display.conftest import display_config
from tests.display.samples import busy_calls, call, state

SIZES = [(1920, 1080), (1280, 720), (1080, 1920)]


def live_board(**kw) -> Board:
    board = Board(kw.get("highlight_s", 10), kw.get("stale_after_s", 60))
    board.set_connected(True)
    board.set_server_online(True)
    return board


def test_band_waits_read_as_a_range_and_an_empty_band_says_nobody_waits():
    board = live_board()
    board.apply_state(state(5), 0)
    _simple, onestop, okuyami = board.view(1).bands
    assert onestop.wait_text("ja", current=True) == "目安 15〜25分"
    assert onestop.waiting_text("ja") == "9人待ち"
    assert okuyami.wait_text("ja", current=True) == "お待ちの方はいません"
    assert "0" not in okuyami.wait_text("en", current=True)
    assert onestop.wait_text("en", current=True) == "about 15–25 min"
    assert onestop.wait_text("ja", current=False) == "待ち時間は表示できません"


def test_a_wait_of_a_minute_or_less_says_soon_not_zero_minutes():
    board = live_board()
    board.apply_state(state(5, waits={"simple": (1, 0, 0, 1)}), 0)
    assert board.view(0).bands[0].wait_text("ja", current=True) == "まもなくお呼びします"


def test_a_new_call_is_highlighted_then_joins_the_list_of_its_counter():
    board = live_board(highlight_s=10, stale_after_s=1000)
    board.apply_state(state(20, busy_calls()), 0)
    board.apply_call(call(21, 312, 3), 100)
    now = board.view(101)
    assert now.main.number == "312" and now.highlighted
    assert "312" not in [c.number for c in now.recent]
    later = board.view(111)
    assert later.main.number == "312" and not later.highlighted
    by_counter = {c.counter: c.number for c in later.recent}
    assert by_counter["c3"] == "312", "the counter's last call replaces its older one (14)"
    assert len(by_counter) == len(later.recent), "one row per counter"


def test_recalls_are_marked_and_the_list_is_newest_first():
    board = live_board()
    board.apply_state(state(20, busy_calls()), 0)
    view = board.view(50)
    assert [c.seq for c in view.recent] == sorted((c.seq for c in view.recent), reverse=True)
    assert [c.recall for c in view.recent if c.number == "14"] == [True]


def test_a_state_older_than_a_live_call_does_not_forget_it():
    board = live_board()
    board.apply_call(call(30, 320, 4), 0)
    board.apply_state(state(29, busy_calls()), 1)
    assert board.view(2).main.number == "320"


def test_the_board_is_not_trusted_when_disconnected_stale_or_the_server_is_gone():
    board = live_board(stale_after_s=60)
    assert not board.trusted(0), "no state yet"
    board.apply_state(state(1), 0)
    assert board.trusted(59)
    assert not board.trusted(61), "state too old"
    board.apply_state(state(2), 61)
    board.set_server_online(False)
    assert not board.trusted(62)
    board.set_server_online(True)
    board.set_connected(False)
    assert not board.trusted(62)


def test_version_changes_only_with_content():
    board = live_board()
    v = board.version
    board.set_connected(True)
    assert board.version == v
    board.apply_state(state(1), 0)
    assert board.version == v + 1


def test_seen_calls_make_a_redelivered_call_silent_and_a_recall_new():
    seen = SeenCalls()
    seen.saw_state(state(20, busy_calls()))
    assert not seen.is_new(call(16, 307, 6)), "listed in the state: shown, not announced"
    assert seen.is_new(call(21, 312, 3)) and not seen.is_new(call(21, 312, 3))
    assert seen.is_new(call(22, 312, 3, recall=True))


def test_announcement_reads_the_number_as_a_number_and_a_recall_says_so():
    assert announcement(call(1, 312, 3), "ja") == "受付番号 312番の方、3番窓口へお越しください。"
    assert "もう一度" in announcement(call(2, 312, 3, recall=True), "ja")
    assert announcement(call(1, 312, 3), "en") == "Number 312, please come to Counter 3."
    assert "Second call" in announcement(call(2, 312, 3, recall=True), "en")
    for lang in ("ja-easy", "vi", "zh", "ko", "ne"):
        assert "312" in announcement(call(1, 312, 3), lang)


def test_date_gives_the_japanese_era_and_the_western_year():
    day = dt.date(2026, 12, 2)
    assert era_year(day) == 8
    assert date_text(day, "ja") == "令和8年（2026年）12月2日（水）"
    assert "2026" in date_text(day, "en") and "Reiwa 8" in date_text(day, "en")


def test_languages_alternate_with_japanese():
    settings = DisplaySettings(languages=["ja", "en", "zh"])
    assert settings.rotation() == ["ja", "en", "ja", "zh"]
    assert DisplaySettings(languages=["ja"]).rotation() == ["ja"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_fits_the_screen_without_overlap_and_the_number_is_large(size):
    layout = compute(*size)
    screen = compute(*size).header.__class__(0, 0, *size)
    boxes = layout.boxes()
    for name, box in boxes.items():
        assert box.inside(screen), f"{name} leaves the screen"
    regions = {k: v for k, v in boxes.items() if k in {"header", "recent", "bands", "footer"}}
    main = layout.main_tag.__class__(layout.main_tag.x, layout.main_tag.y, layout.main_tag.w,
                                     layout.counter.bottom - layout.main_tag.y)
    regions["main"] = main
    names = list(regions)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not regions[a].overlaps(regions[b]), f"{a} overlaps {b}"
    assert layout.number.h >= MIN_NUMBER_SHARE * size[1]
    assert layout.rows >= 4
    assert layout.portrait == (size[1] > size[0])


def test_bad_sizes_are_refused_with_the_expected_form():
    assert parse_size("1280x720") == (1280, 720)
    for bad in ("1280", "axb", "100x100", "-5x10"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_every_colour_pair_has_at_least_7_to_1_contrast():
    def luminance(rgb):
        def channel(c):
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    for name, (fg, bg) in PALETTE_PAIRS.items():
        hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 7, name


def test_settings_come_from_display_toml_with_the_site_table_and_the_site_name(tmp_path):
    settings = load_settings(None, "chuo")
    assert settings.languages[0] == "ja" and set(settings.languages) >= {"en", "ne"}
    assert settings.site_name["ja"] == "中央区役所" and settings.message["ja"]
    custom = load_settings(display_config(tmp_path, volume=0.3, spoken_languages=["ja", "vi"]), "chuo")
    assert custom.volume == 0.3


def test_bad_display_settings_are_refused_with_a_line_a_clerk_can_fix(tmp_path):
    with pytest.raises(CommandError, match="volume"):
        load_settings(display_config(tmp_path / "a", volume=3), "chuo")
    with pytest.raises(CommandError, match="unknown language"):
        load_settings(display_config(tmp_path / "b", languages=["ja", "fr"]), "chuo")
    with pytest.raises(CommandError, match="no site 'atlantis'"):
        load_settings(None, "atlantis")


def test_a_site_table_overrides_the_defaults_for_that_site_only(tmp_path):
    config = display_config(tmp_path)
    with (config / "display.toml").open("a", encoding="utf-8") as out:
        out.write('\n[sites.chuo]\nspoken_languages = ["ja", "vi"]\n')
    assert load_settings(config, "chuo").spoken_languages == ["ja", "vi"]
    assert load_settings(config, "higashi").spoken_languages == ["ja", "en"]
