"""Draws one frame of the board on a pygame surface, from a ``BoardView`` and the moment's language.

Colours: white and light grey on black, black on gold for the call being made, black on white for
the notice; every pair is at least 7:1 (``PALETTE_PAIRS``, checked by a test). Meaning is never
carried by colour alone: the highlighted call also says 「お呼び出し中」, a recall is a boxed word,
the notice is words in Japanese and English.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pygame
import pygame.freetype

from madoguchi.common.i18n import message
from madoguchi.display.board import BoardView, CallView
from madoguchi.display.fonts import Color, TextFont, Weight, text_font
from madoguchi.display.layout import Box, Layout
from madoguchi.display.text import clock_text, date_text

BLACK: Color = (0, 0, 0)
WHITE: Color = (255, 255, 255)
GREY: Color = (205, 205, 205)
GOLD: Color = (255, 214, 0)
PANEL: Color = (28, 28, 28)
RULE: Color = (110, 110, 110)

PALETTE_PAIRS: dict[str, tuple[Color, Color]] = {
    "text": (WHITE, BLACK), "secondary": (GREY, BLACK), "panel": (WHITE, PANEL), "panel_secondary": (GREY, PANEL),
    "highlight": (BLACK, GOLD), "notice": (BLACK, WHITE), "tag": (BLACK, WHITE),
}
"""(foreground, background) of every text drawn."""

NUMBER_LANGUAGE = "en"  # digits: Noto Sans Bold reads best from afar whatever the language around it


@dataclass(frozen=True)
class Frame:
    view: BoardView
    language: str
    now: dt.datetime
    audio: str  # "ok", "muted", "off", "failed"
    message_line: dict[str, str]
    site_name: dict[str, str]


def localized(texts: dict[str, str], language: str) -> tuple[str, str]:
    """The text in ``language``, else Japanese, with the language it is written in (to pick its font)."""
    for lang in (language, "ja", *texts):
        if texts.get(lang):
            return texts[lang], lang
    return "", language


@dataclass(frozen=True)
class Drawn:
    """Where the call's number was drawn (its ink), for screenshots' checks, and which parts of the
    screen differ from the previous frame (only those need to reach the screen)."""

    number: pygame.Rect | None
    changed: list[pygame.Rect]


def init() -> None:
    pygame.font.init()
    pygame.freetype.init()


class Renderer:
    def __init__(self, layout: Layout) -> None:
        init()
        self.layout = layout
        self._region_keys: dict[str, object] = {}
        self._number_px: dict[tuple[int, str, Box, str], int] = {}
        self._numbers: dict[tuple[str, str, Color, Box, str], pygame.Surface] = {}

    # ---- text helpers

    def _fit(self, text: str, language: str, px: int, width: int, weight: Weight = "regular") -> TextFont:
        font = text_font(language, px, weight)
        while px > 10 and font.width(text) > width:
            px = int(px * 0.92)
            font = text_font(language, px, weight)
        return font

    def _text(self, surface: pygame.Surface, text: str, language: str, px: int, color: Color, box: Box,
              align: str = "left", weight: Weight = "regular") -> pygame.Rect:
        if not text:
            return pygame.Rect(box.x, box.y, 0, 0)
        font = self._fit(text, language, px, box.w, weight)
        image = font.render(text, color)
        x = {"left": box.x, "center": box.x + (box.w - image.get_width()) // 2,
             "right": box.right - image.get_width()}[align]
        y = box.y + (box.h - image.get_height()) // 2
        return surface.blit(image, (x, y))

    def _ink(self, surface: pygame.Surface, text: str, language: str, color: Color, box: Box,
             weight: Weight = "bold") -> pygame.Rect:
        """``text`` as large as ``box`` allows, measured by its ink (for the number).

        The size found is kept per number of characters (the digits are tabular), and the last few
        numbers drawn are kept whole: redraws for the clock or the language render nothing large again.
        """
        key = (text, language, color, box, weight)
        image = self._numbers.get(key)
        if image is None:
            size_key = (len(text), language, box, weight)
            px = self._number_px.get(size_key, int(box.h / 0.72))
            while True:
                image = text_font(language, px, weight).render(text, color, cache=False)
                ink = image.get_bounding_rect()
                if (ink.h <= box.h and ink.w <= box.w) or px <= 12:
                    break
                px = int(px * min(0.97, box.w / max(ink.w, 1), box.h / max(ink.h, 1)))
            self._number_px[size_key] = px
            image = image.subsurface(ink).copy()
            self._numbers[key] = image
            while len(self._numbers) > 4:
                self._numbers.pop(next(iter(self._numbers)))
        glyphs = image
        ink = image.get_rect()
        x = box.x + (box.w - ink.w) // 2
        y = box.y + (box.h - ink.h) // 2
        return surface.blit(glyphs, (x, y))

    def _tag(self, surface: pygame.Surface, text: str, language: str, px: int, right: int, mid_y: int) -> None:
        """A boxed word (recall), black on white, right-aligned at ``right``."""
        font = text_font(language, px, "bold")
        image = font.render(text, BLACK)
        pad = max(4, px // 5)
        rect = pygame.Rect(0, 0, image.get_width() + 2 * pad, image.get_height() + pad)
        rect.midright = (right, mid_y)
        pygame.draw.rect(surface, WHITE, rect, border_radius=pad)
        surface.blit(image, (rect.x + pad, rect.y + pad // 2))

    # ---- the frame

    def draw(self, surface: pygame.Surface, frame: Frame) -> Drawn:
        lay, lang = self.layout, frame.language
        surface.fill(BLACK)
        self._header(surface, frame)
        number = self._main(surface, frame)
        self._recent(surface, frame)
        if frame.view.trusted:
            self._bands(surface, frame)
            line, line_lang = localized(frame.message_line, lang)
            self._text(surface, line, line_lang, lay.text_px, GREY, _inset(lay.footer, lay.margin), align="center")
        else:
            self._notice(surface)
        self._audio(surface, frame)
        changed = []
        for name, (box, key) in self._regions(frame).items():
            if self._region_keys.get(name) != key:
                self._region_keys[name] = key
                changed.append(_rect(box))
        return Drawn(number, changed)

    def _regions(self, frame: Frame) -> dict[str, tuple[Box, object]]:
        """Each part of the screen with what its pixels depend on (everything between them stays black)."""
        lay, view, lang = self.layout, frame.view, frame.language
        main = Box(lay.main_tag.x, lay.main_tag.y, lay.main_tag.w, lay.counter.bottom - lay.main_tag.y)
        lower_y = lay.bands.y
        return {
            "header": (lay.header, (lang, frame.now.strftime("%Y%m%d%H%M"), tuple(frame.site_name.items()))),
            "main": (main, (view.main, view.highlighted, lang)),
            "recent": (lay.recent, (view.recent, lang, frame.audio)),
            "lower": (Box(0, lower_y, lay.width, lay.height - lower_y),
                      (view.bands, view.trusted, lang, tuple(frame.message_line.items()))),
        }

    def _header(self, surface: pygame.Surface, frame: Frame) -> None:
        lay, lang = self.layout, frame.language
        box = _inset(lay.header, lay.margin)
        pygame.draw.line(surface, RULE, (0, lay.header.bottom - 1), (lay.width, lay.header.bottom - 1), 2)
        clock = self._text(surface, clock_text(frame.now), "en", int(box.h * 0.85), WHITE, box, "right", "bold")
        name, name_lang = localized(frame.site_name, lang)
        # the site's name first (up to 40 % of the bar), the date shrinks into what is left
        name_w = min(self._fit(name, name_lang, lay.text_px, box.w, "bold").width(name), int(box.w * 0.4))
        name_box = Box(box.x, box.y, max(1, name_w), box.h)
        self._text(surface, name, name_lang, lay.text_px, WHITE, name_box, "left", "bold")
        date_x = name_box.right + 2 * lay.margin
        date_box = Box(date_x, box.y, max(1, clock.x - date_x - lay.margin), box.h)
        self._text(surface, date_text(frame.now.date(), lang), lang, int(lay.text_px * 0.8), GREY, date_box, "right")

    def _main(self, surface: pygame.Surface, frame: Frame) -> pygame.Rect | None:
        lay, lang, view = self.layout, frame.language, frame.view
        area = Box(lay.main_tag.x, lay.main_tag.y, lay.main_tag.w, lay.counter.bottom - lay.main_tag.y)
        call = view.main
        fg, bg = (BLACK, GOLD) if view.highlighted else (WHITE, PANEL)
        pygame.draw.rect(surface, bg, _rect(area), border_radius=lay.margin)
        if view.highlighted:
            pygame.draw.rect(surface, WHITE, _rect(area), width=max(4, lay.margin // 2), border_radius=lay.margin)
        tag_box = _inset(lay.main_tag, lay.margin)
        key = "calling_tag" if view.highlighted else "last_called"
        if call is None:
            self._text(surface, message("display", "now_calling", lang), lang, int(tag_box.h * 0.8), fg, tag_box)
            self._text(surface, message("display", "no_calls_yet", lang), lang, lay.text_px, fg, lay.number, "center")
            return None
        title = self._text(surface, message("display", key, lang), lang, int(tag_box.h * 0.8), fg,
                           tag_box, weight="bold")
        if call.recall:
            self._tag_in(surface, call, lang, tag_box, title, fg)
        ink = self._ink(surface, call.number, NUMBER_LANGUAGE, fg, lay.number)
        self._text(surface, call.counter_in(lang), lang, int(lay.counter.h * 0.72), fg,
                   _inset(lay.counter, lay.margin), "center", "bold")
        return ink

    def _tag_in(self, surface: pygame.Surface, call: CallView, lang: str, box: Box, title: pygame.Rect,
                fg: Color) -> None:
        text = message("display", "recall", lang)
        px = int(box.h * 0.6)
        font = text_font(lang, px, "bold")
        image = font.render(text, WHITE if fg == WHITE else GOLD)
        pad = max(4, px // 5)
        rect = pygame.Rect(0, 0, image.get_width() + 2 * pad, image.get_height() + pad)
        rect.midright = (box.right, box.y + box.h // 2)
        # black box on gold / white box on the panel: the word carries the meaning, the box sets it apart
        pygame.draw.rect(surface, BLACK if fg == BLACK else WHITE, rect, border_radius=pad)
        surface.blit(font.render(text, GOLD if fg == BLACK else BLACK), (rect.x + pad, rect.y + pad // 2))

    def _recent(self, surface: pygame.Surface, frame: Frame) -> None:
        lay, lang = self.layout, frame.language
        box = lay.recent
        title = Box(box.x, box.y, box.w, box.h - lay.rows * lay.row_h)
        self._text(surface, message("display", "recent_calls", lang), lang, lay.recent_title_px, GREY, title,
                   weight="bold")
        if not frame.view.recent:
            row = Box(box.x, title.bottom, box.w, lay.row_h)
            self._text(surface, message("display", "no_calls_yet", lang), lang, lay.row_px, GREY, row)
            return
        number_w = int(box.w * 0.3)
        for i, call in enumerate(frame.view.recent[:lay.rows]):
            y = title.bottom + i * lay.row_h
            pygame.draw.line(surface, RULE, (box.x, y), (box.right, y), 1)
            row = Box(box.x, y, box.w, lay.row_h)
            self._text(surface, call.number, NUMBER_LANGUAGE, int(lay.row_h * 0.8), WHITE,
                       Box(row.x, row.y, number_w, row.h), "right", "bold")
            _arrow(surface, Box(row.x + number_w + lay.margin, row.y, lay.row_h // 2, row.h), GREY)
            label_x = row.x + number_w + 2 * lay.margin + lay.row_h // 2
            tag_w = 0
            if call.recall:
                self._tag(surface, message("display", "recall", lang), lang, int(lay.row_px * 0.7), row.right,
                          row.y + row.h // 2)
                tag_w = text_font(lang, int(lay.row_px * 0.7), "bold").width(message("display", "recall", lang))
                tag_w += 2 * lay.margin
            self._text(surface, call.counter_in(lang), lang, lay.row_px, WHITE,
                       Box(label_x, row.y, max(1, row.right - label_x - tag_w), row.h), weight="bold")

    def _bands(self, surface: pygame.Surface, frame: Frame) -> None:
        lay, lang = self.layout, frame.language
        title = Box(lay.bands.x, lay.bands.y, lay.bands.w, lay.band_cells[0].y - lay.bands.y)
        self._text(surface, message("display", "waiting", lang), lang, int(title.h * 0.7), GREY, title,
                   weight="bold")
        for band, cell in zip(frame.view.bands, lay.band_cells, strict=False):
            pygame.draw.rect(surface, PANEL, _rect(_inset(cell, lay.margin // 3)), border_radius=lay.margin)
            inner = _inset(cell, lay.margin)
            wait = band.wait_text(lang, current=True)
            people = band.waiting_text(lang) if band.waiting else ""
            if lay.portrait:
                half = inner.h // 2
                px = min(lay.text_px, int(half * 0.8))
                self._text(surface, band.label_in(lang), lang, px, WHITE,
                           Box(inner.x, inner.y, inner.w, half), weight="bold")
                line = Box(inner.x, inner.y + half, inner.w, half)
                left = self._text(surface, people, lang, px, GREY, line)
                rest = Box(left.right + lay.margin, line.y, max(1, line.right - left.right - lay.margin), line.h)
                self._text(surface, wait, lang, px, WHITE, rest, "right", "bold")
            else:
                third = inner.h // 3
                px = min(lay.text_px, int(third * 0.85))
                self._text(surface, band.label_in(lang), lang, px, WHITE,
                           Box(inner.x, inner.y, inner.w, third), weight="bold")
                self._text(surface, people, lang, px, GREY, Box(inner.x, inner.y + third, inner.w, third))
                self._text(surface, wait, lang, px, WHITE,
                           Box(inner.x, inner.y + 2 * third, inner.w, third), weight="bold")

    def _notice(self, surface: pygame.Surface) -> None:
        """The board cannot be trusted: say so plainly, in Japanese and English, instead of the waits."""
        lay = self.layout
        box = lay.notice
        pygame.draw.rect(surface, WHITE, _rect(box), border_radius=lay.margin)
        pygame.draw.rect(surface, BLACK, _rect(_inset(box, lay.margin // 2)), width=max(3, lay.margin // 3),
                         border_radius=lay.margin)
        inner = _inset(box, 2 * lay.margin)
        half = inner.h // 2
        for i, lang in enumerate(("ja", "en")):
            part = Box(inner.x, inner.y + i * half, inner.w, half)
            self._wrapped(surface, message("display", "notice", lang), lang, lay.text_px, BLACK, part)

    def _wrapped(self, surface: pygame.Surface, text: str, lang: str, px: int, color: Color, box: Box) -> None:
        while True:
            font = text_font(lang, px, "bold")
            lines = wrap(text, lang, box.w, font.width)
            line_h = int(px * 1.35)
            if len(lines) * line_h <= box.h or px <= 12:
                break
            px = int(px * 0.9)
        top = box.y + (box.h - len(lines) * line_h) // 2
        for i, line in enumerate(lines):
            self._text(surface, line, lang, px, color, Box(box.x, top + i * line_h, box.w, line_h), "center", "bold")

    def _audio(self, surface: pygame.Surface, frame: Frame) -> None:
        """A small boxed word when sound is not playing: staff see it, residents know to watch."""
        if frame.audio == "ok":
            return
        lay = self.layout
        key = {"muted": "muted", "off": "audio_off"}.get(frame.audio, "audio_failed")
        text = f"{message('display', key, 'ja')} / {message('display', key, 'en')}"
        title_h = lay.recent.h - lay.rows * lay.row_h
        self._tag(surface, text, "ja", lay.small_px, lay.recent.right, lay.recent.y + title_h // 2)


def wrap(text: str, language: str, width: int, measure: Callable[[str], int]) -> list[str]:
    """Lines of ``text`` no wider than ``width``: by words; Japanese and Chinese by phrases ending in
    、。 first, by characters only inside a phrase too long for a line (never a line starting with
    、。」）— 禁則)."""
    if language.split("-")[0] not in {"ja", "zh"}:
        return _fill(text.split(" "), " ", width, measure)
    phrases = [p for p in re.findall(r"[^、。，！？]*[、。，！？]*", text) if p]
    if all(measure(p) <= width for p in phrases):
        return _fill(phrases, "", width, measure)
    return _fill(list(text), "", width, measure)


def _fill(units: list[str], joiner: str, width: int, measure: Callable[[str], int]) -> list[str]:
    lines: list[str] = []
    line = ""
    for unit in units:
        candidate = f"{line}{joiner}{unit}" if line else unit
        if measure(candidate) <= width or not line or unit in "、。」）！？，":
            line = candidate
        else:
            lines.append(line)
            line = unit
    if line:
        lines.append(line)
    return lines


def _arrow(surface: pygame.Surface, box: Box, color: Color) -> None:
    cx, cy, s = box.x + box.w // 2, box.y + box.h // 2, max(6, box.w // 2)
    pygame.draw.polygon(surface, color, [(cx - s // 2, cy - s // 2), (cx + s // 2, cy), (cx - s // 2, cy + s // 2)])


def _inset(box: Box, by: int) -> Box:
    return Box(box.x + by, box.y + by, max(1, box.w - 2 * by), max(1, box.h - 2 * by))


def _rect(box: Box) -> pygame.Rect:
    return pygame.Rect(box.x, box.y, box.w, box.h)
