"""Renders a ticket as 1-bit images for the printer's raster command, with the QR left to the printer.

Japanese sent as ESC/POS text comes out in Chinese code pages, so all text is drawn here with a CJK
font at the printer's dot width and thresholded (not dithered: dithering makes kanji strokes ragged).
The ticket is three parts printed in order: a header image (site, number, band, procedures, time,
estimate), the status-URL QR code drawn natively by the printer, and a footer image (notes).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from madoguchi.hardware.fonts import Script, Weight, load_font, script_for_language
from madoguchi.hardware.ticket import TicketContent

if TYPE_CHECKING:
    from PIL import Image

SUPPORTED_WIDTHS_DOTS = (576, 512, 384)
# Grey level (0 black .. 255 white) below which an anti-aliased pixel becomes a printed dot. A little
# above the midpoint keeps the thin horizontal strokes of small kanji from breaking up.
INK_THRESHOLD = 150


@dataclass(frozen=True)
class QrBlock:
    """The QR code the printer draws between header and footer."""

    data: bytes
    module_dots: int
    error_level: int = 1  # ESC/POS 0=L 1=M 2=Q 3=H


@dataclass(frozen=True)
class RenderedTicket:
    width_dots: int
    header: Image.Image
    qr: QrBlock
    footer: Image.Image

    def preview(self) -> Image.Image:
        """The whole ticket as a printer draws it (header, centred QR, footer) for screens and tests."""
        from PIL import Image

        from madoguchi.hardware.qr import qr_image

        symbol = qr_image(self.qr.data, self.qr.module_dots, self.qr.error_level)
        height = self.header.height + symbol.height + self.footer.height
        page = Image.new("1", (self.width_dots, height), 255)
        page.paste(self.header, (0, 0))
        page.paste(symbol, ((self.width_dots - symbol.width) // 2, self.header.height))
        page.paste(self.footer, (0, self.header.height + symbol.height))
        return page


class _Column:
    """Stacks lines of text and rules top to bottom on a greyscale canvas of fixed width."""

    def __init__(self, width: int, margin: int) -> None:
        self.width = width
        self.margin = margin
        self._blocks: list[Image.Image] = []

    def space(self, height: int) -> None:
        from PIL import Image

        self._blocks.append(Image.new("L", (self.width, max(0, height)), 255))

    def rule(self, thickness: int) -> None:
        from PIL import Image, ImageDraw

        block = Image.new("L", (self.width, thickness), 255)
        ImageDraw.Draw(block).rectangle((self.margin, 0, self.width - self.margin, thickness), fill=0)
        self._blocks.append(block)

    def text(self, text: str, script: Script, weight: Weight, size: int, *, center: bool = True,
             inverted: bool = False, tight: bool = False) -> None:
        """One line; ``tight`` crops to the ink (for the big number), ``inverted`` prints white on black."""
        from PIL import Image, ImageDraw

        font = load_font(script, weight, size)
        ascent, descent = font.getmetrics()
        left, top, right, bottom = font.getbbox(text, anchor="ls")
        line_top, line_bottom = (top, bottom) if tight else (-ascent, descent)
        height = line_bottom - line_top
        pad = size // 4 if inverted else 0
        block = Image.new("L", (self.width, height + 2 * pad), 0 if inverted else 255)
        draw = ImageDraw.Draw(block)
        text_width = right - left
        x = (self.width - text_width) // 2 - left if center else self.margin - left
        draw.text((x, pad - line_top), text, font=font, fill=255 if inverted else 0, anchor="ls")
        self._blocks.append(block)

    def wrapped(self, text: str, script: Script, weight: Weight, size: int, *, prefix: str = "") -> None:
        font = load_font(script, weight, size)
        limit = self.width - 2 * self.margin
        by_words = script in {"latin", "deva", "ko"}
        lines = wrap(prefix + text, font.getlength, limit, by_words=by_words, script=script)
        for index, line in enumerate(lines):
            indent = "\u3000" if index and prefix else ""
            self.text(indent + line, script, weight, size, center=False)

    def image(self) -> Image.Image:
        from PIL import Image

        height = sum(block.height for block in self._blocks)
        canvas = Image.new("L", (self.width, height), 255)
        y = 0
        for block in self._blocks:
            canvas.paste(block, (0, y))
            y += block.height
        return canvas.point(lambda v: 0 if v < INK_THRESHOLD else 255, mode="1")


_NO_LINE_START = frozenset("、。，．,.・：；？！ー）」』】〕ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々")
_NO_LINE_END = frozenset("（「『【〔")


@functools.cache
def _phrase_parser(script: str):  # type: ignore[no-untyped-def]
    import budoux

    if script.startswith("zh"):
        return budoux.load_default_simplified_chinese_parser()
    return budoux.load_default_japanese_parser()


def phrases(text: str, script: str = "ja") -> list[str]:
    """Japanese (or Chinese) split into phrases by BudouX: 「お尋ねください。」 stays one unit."""
    return list(_phrase_parser(script).parse(text)) if text else []


def wrap(text: str, measure, limit: float, *, by_words: bool, script: str = "ja") -> list[str]:  # type: ignore[no-untyped-def]
    """Greedy line breaking: at spaces for scripts that use them, else between phrases (禁則処理).

    Japanese breaks between BudouX phrases, so no line starts with 「い。」 cut from its word; a
    phrase longer than the line is broken between characters, never before closing punctuation or a
    small kana (it hangs past the margin instead: ぶら下げ組み) and never after an opening bracket.
    """
    units = text.split(" ") if by_words else phrases(text, script)
    joiner = " " if by_words else ""
    lines: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}{joiner}{unit}" if current else unit
        if measure(candidate) <= limit or (current and unit[:1] in _NO_LINE_START):
            current = candidate
            continue
        if current:
            lines.append(current)
        current = unit
        while measure(current) > limit and len(current) > 1:  # a unit longer than a line
            cut = _character_break(current, measure, limit)
            lines.append(current[:cut])
            current = current[cut:].lstrip(" ") if by_words else current[cut:]
    if current:
        lines.append(current)
    return lines


def _character_break(line: str, measure, limit: float) -> int:  # type: ignore[no-untyped-def]
    """Where to cut a line that is too long: the most that fits, moved so 禁則 holds."""
    cut = len(line) - 1
    while cut > 1 and measure(line[:cut]) > limit:
        cut -= 1
    while cut < len(line) and line[cut] in _NO_LINE_START:  # closing punctuation hangs on this line
        cut += 1
    while cut > 1 and line[cut - 1] in _NO_LINE_END:
        cut -= 1
    tail = line[cut:]
    if measure(tail) <= limit and len(tail.rstrip("".join(_NO_LINE_START))) == 1 and cut > 2:
        cut -= 1  # never one character and its punctuation alone on the last line (「い。」)
    return cut


def _estimate_text(content: TicketContent) -> str:
    low, high = content.estimate_low_min, content.estimate_high_min
    if low is None and high is None:
        return "お待ち時間の目安: ―"
    if (high if high is not None else low or 0) <= 1:
        return "まもなくお呼びします"
    if low is None or high is None or low == high:
        return f"お待ち時間の目安: 約{low if high is None else high}分"
    return f"お待ち時間の目安: {low}〜{high}分"


def _issued_text(issued_at: dt.datetime) -> str:
    return f"発行 {issued_at:%Y年%m月%d日 %H:%M}"


def _number_size(text: str, width: int, scale: float) -> int:
    """The largest font size (up to ~40% of the paper width tall) at which the number fits the line."""
    size = int(250 * scale)
    limit = width - int(40 * scale)
    while size > 40:
        left, _, right, _ = load_font("ja", "bold", size).getbbox(text, anchor="ls")
        if right - left <= limit:
            return size
        size = int(size * 0.94)
    return size


def render_ticket(content: TicketContent, width_dots: int = 576) -> RenderedTicket:
    """Lays out the ticket for a printer ``width_dots`` wide (576/512 for 80 mm, 384 for 58 mm paper)."""
    if width_dots not in SUPPORTED_WIDTHS_DOTS:
        raise ValueError(f"width_dots must be one of {SUPPORTED_WIDTHS_DOTS}, not {width_dots}")
    scale = width_dots / 576

    def px(n: int) -> int:
        return max(1, round(n * scale))

    margin = px(24)

    head = _Column(width_dots, margin)
    head.space(px(8))
    head.text(content.site_name, "ja", "bold", px(34))
    head.space(px(10))
    head.rule(px(3))
    head.space(px(14))
    head.text("受付番号", "ja", "regular", px(28))
    head.space(px(14))
    head.text(content.display_number, "ja", "bold", _number_size(content.display_number, width_dots, scale),
              tight=True)
    head.space(px(24))
    head.text(content.band_label, "ja", "bold", px(34), inverted=True)
    head.space(px(18))
    if content.procedure_labels:
        head.text("本日の手続き", "ja", "bold", px(26), center=False)
        head.space(px(4))
        for label in content.procedure_labels:
            head.wrapped(label, "ja", "regular", px(28), prefix="・")
        head.space(px(14))
    head.text(_estimate_text(content), "ja", "bold", px(30), center=False)
    head.space(px(6))
    head.text(_issued_text(content.issued_at), "ja", "regular", px(26), center=False)
    head.space(px(28))

    module_dots = 6 if width_dots >= 512 else 4
    foot = _Column(width_dots, margin)
    foot.space(px(28))
    foot.text("QRコードで呼び出し状況を確認できます", "ja", "regular", px(24))
    notes_script = script_for_language(content.language)
    if content.notes:
        foot.space(px(12))
        foot.rule(px(2))
        foot.space(px(10))
        for note in content.notes:
            foot.wrapped(note, notes_script, "regular", px(26))
    foot.space(px(16))
    return RenderedTicket(
        width_dots=width_dots,
        header=head.image(),
        qr=QrBlock(content.status_url.encode("ascii"), module_dots),
        footer=foot.image(),
    )
