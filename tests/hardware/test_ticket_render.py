"""Ticket rendering: golden PNGs, legibility, no personal data.

Regenerate the golden PNGs on purpose with ``python -m tests.hardware.regenerate_golden``.
"""

from __future__ import annotations

import datetime as dt
import json

import pydantic
import pytest
from PIL import Image, ImageChops

from madoguchi.hardware.ticket import TicketContent, sample_ticket
from madoguchi.hardware.ticket_render import render_ticket, wrap
from tests.hardware.regenerate_golden import CASES, GOLDEN_DIR, environment, render_case

# Share of pixels allowed to differ when the golden PNGs were drawn by another Pillow/FreeType/font.
OTHER_ENVIRONMENT_TOLERANCE = 0.01


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_tickets_match_their_golden_png(name, tmp_path):
    actual = render_case(name)
    golden = Image.open(GOLDEN_DIR / f"{name}.png").convert("1")
    same_environment = json.loads((GOLDEN_DIR / "versions.json").read_text()) == environment()
    assert actual.size == golden.size, f"{name}: size {actual.size} != golden {golden.size}"
    differing = ImageChops.logical_xor(actual.convert("1"), golden).getbbox()
    if differing is None:
        return
    diff = ImageChops.logical_xor(actual.convert("1"), golden).convert("L")
    share = sum(diff.histogram()[1:]) / (actual.width * actual.height)
    actual.save(tmp_path / f"{name}.png")
    message = (f"{name} differs from its golden PNG in {share:.3%} of pixels (box {differing}); "
               f"actual saved to {tmp_path}; if intended, run python -m tests.hardware.regenerate_golden")
    assert not same_environment and share <= OTHER_ENVIRONMENT_TOLERANCE, message


def test_the_number_is_readable_at_arms_length():
    content, width = CASES["ticket-ja-576"]
    header = render_ticket(content, width).header
    # The number is the tallest run of rows with ink: at 203 dpi, 150 dots are about 19 mm.
    number_rows = _tallest_ink_block(header)
    assert number_rows >= 150


def _tallest_ink_block(image: Image.Image) -> int:
    best = run = 0
    for y in range(image.height):
        row = image.crop((0, y, image.width, y + 1))
        has_ink = row.getextrema()[0] == 0
        run = run + 1 if has_ink else 0
        best = max(best, run)
    return best


def test_images_are_one_bit_at_the_printer_width_with_no_grey():
    for width in (576, 512, 384):
        rendered = render_ticket(sample_ticket(), width)
        for part in (rendered.header, rendered.footer):
            assert part.mode == "1" and part.width == width
            histogram = part.convert("L").histogram()
            assert sum(histogram[1:255]) == 0


def test_a_width_the_printers_do_not_have_is_refused():
    with pytest.raises(ValueError, match="576"):
        render_ticket(sample_ticket(), 600)


def test_the_ticket_model_has_no_place_for_personal_data():
    base = sample_ticket().model_dump()
    for field in ("name", "address", "birth_date", "card"):
        with pytest.raises(pydantic.ValidationError):
            TicketContent(**base, **{field: "x"})


def test_the_status_url_must_be_plain_ascii_for_the_qr_code():
    base = sample_ticket().model_dump()
    with pytest.raises(pydantic.ValidationError, match="ASCII"):
        TicketContent(**{**base, "status_url": "https://例え.jp/t/x"})


def test_an_estimate_interval_must_be_ordered():
    base = sample_ticket().model_dump()
    with pytest.raises(pydantic.ValidationError):
        TicketContent(**{**base, "estimate_low_min": 30, "estimate_high_min": 10})


def test_sample_ticket_is_issued_in_japan_time_by_default():
    assert sample_ticket().issued_at.utcoffset() == dt.timedelta(hours=9)


def test_japanese_wraps_between_characters_and_keeps_punctuation_off_the_line_start():
    lines = wrap("あいうえお。かきくけこ", len, 5, by_words=False)
    assert lines == ["あいうえお。", "かきくけこ"]


CLOSING = "、。）」ー"
NOTE = "番号が呼ばれたら表示の窓口へお越しください。"


@pytest.mark.parametrize("limit", range(3, 23))
def test_japanese_breaks_between_phrases_and_never_leaves_a_lone_syllable_on_a_line(limit):
    lines = wrap(NOTE, len, limit, by_words=False)
    assert "".join(lines) == NOTE
    for line in lines:
        assert line[0] not in CLOSING, lines  # 禁則: no line starts with closing punctuation
        assert len(line.rstrip(CLOSING)) >= 2, lines  # never 「い。」 alone
    if limit >= len("お越しください。"):
        assert "お越しください。" in lines or any(line.endswith("お越しください。") for line in lines), lines


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("ticket-ja")))
def test_printed_japanese_notes_keep_their_words_whole(name):
    from madoguchi.hardware.fonts import load_font

    content, width = CASES[name]
    scale = width / 576
    font = load_font("ja", "regular", max(1, round(26 * scale)))
    for note in content.notes:
        lines = wrap(note, font.getlength, width - 2 * max(1, round(24 * scale)), by_words=False)
        assert all(len(line.rstrip(CLOSING)) >= 2 for line in lines), (name, lines)
        assert not any(line.startswith(("い。", "す。", "る。")) for line in lines), (name, lines)


def test_chinese_notes_break_between_chinese_phrases():
    lines = wrap("叫到您的号码时，请前往屏幕上显示的窗口。", len, 4, by_words=False, script="zh-hans")
    assert lines == ["叫到您的", "号码时，", "请前往", "屏幕上", "显示的", "窗口。"]  # 屏幕 and 窗口 stay whole


def test_words_wrap_at_spaces_and_overlong_words_are_broken():
    assert wrap("xin chao ban", len, 8, by_words=True) == ["xin chao", "ban"]
    assert wrap("abcdefghij", len, 4, by_words=True) == ["abcd", "efgh", "ij"]


def test_a_wait_of_about_nothing_reads_as_soon_not_zero_minutes():
    from madoguchi.hardware.ticket import sample_ticket
    from madoguchi.hardware.ticket_render import _estimate_text

    now = sample_ticket()
    assert _estimate_text(now.model_copy(update={"estimate_low_min": 0, "estimate_high_min": 0})) == \
        "まもなくお呼びします"
    assert _estimate_text(now.model_copy(update={"estimate_low_min": 10, "estimate_high_min": 20})) == \
        "お待ち時間の目安: 10〜20分"
