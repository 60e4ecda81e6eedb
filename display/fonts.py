"""pygame fonts per language (DESIGN §7b, §12): the font of each language's script by the rule of
``madoguchi.common.fonts`` (BIZ UDPGothic for Japanese where installed); Devanagari shaped with
``set_script('Deva')``; a glyph check.

``pygame.font`` cannot open a face other than the first of a .ttc collection, and the Korean and
Chinese faces of Noto Sans CJK are not the first: those go through ``pygame.freetype``, which takes a
face index (they need no complex shaping, which only ``pygame.font`` does).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Literal

import pygame
import pygame.freetype

from madoguchi.common.fonts import FontFile, find_font, script_for_language, shaping_script

Weight = Literal["regular", "bold"]
Color = tuple[int, int, int]

RENDERED_BUDGET_BYTES = 16 * 1024 * 1024
"""Pixels of rendered words kept for the next frame, across all fonts."""
_RENDERED: OrderedDict[tuple[tuple[str, int, int], str, Color], pygame.Surface] = OrderedDict()
_rendered_bytes = 0


def _remember(key: tuple[tuple[str, int, int], str, Color], surface: pygame.Surface) -> None:
    global _rendered_bytes
    size = surface.get_width() * surface.get_height() * surface.get_bytesize()
    if size > RENDERED_BUDGET_BYTES // 8:
        return
    _RENDERED[key] = surface
    _rendered_bytes += size
    while _rendered_bytes > RENDERED_BUDGET_BYTES and _RENDERED:
        _, old = _RENDERED.popitem(last=False)
        _rendered_bytes -= old.get_width() * old.get_height() * old.get_bytesize()


def font_file(language: str, weight: Weight) -> FontFile:
    return find_font(script_for_language(language), weight)


class TextFont:
    """One font at one pixel size for one language, whatever pygame module opens it."""

    def __init__(self, language: str, px: int, weight: Weight = "regular") -> None:
        self.file = font_file(language, weight)
        self.px = px
        self.key = (str(self.file.path), self.file.index, px)
        self._font: pygame.font.Font | None = None
        self._ft: pygame.freetype.Font | None = None
        if self.file.index == 0:
            self._font = pygame.font.Font(str(self.file.path), px)
            script = shaping_script(language)
            if script is not None:
                self._font.set_script(script)
        else:
            self._ft = pygame.freetype.Font(str(self.file.path), px, font_index=self.file.index)
            self._ft.pad = True

    def render(self, text: str, color: Color, cache: bool = True) -> pygame.Surface:
        """The text drawn; do not draw on the result. Cached (a board redraws mostly the same words)
        within a memory budget shared by every font, so a long day of new numbers keeps memory flat."""
        key = (self.key, text, color)
        cached = _RENDERED.get(key)
        if cached is not None:
            _RENDERED.move_to_end(key)
            return cached
        if self._font is not None:
            surface = self._font.render(text, True, color)
        else:
            assert self._ft is not None
            surface, _ = self._ft.render(text, color)
        if cache:
            _remember(key, surface)
        return surface

    def width(self, text: str) -> int:
        if self._font is not None:
            return int(self._font.size(text)[0])
        assert self._ft is not None
        return int(self._ft.get_rect(text).width)

    def missing_glyphs(self, text: str) -> list[str]:
        """Characters of ``text`` the font has no glyph for (they would show as tofu)."""
        return missing_glyphs(self.file, text)


@functools.lru_cache(maxsize=64)
def text_font(language: str, px: int, weight: Weight = "regular") -> TextFont:
    return TextFont(language, max(8, px), weight)


@functools.lru_cache(maxsize=16)
def _probe(file: FontFile) -> pygame.freetype.Font:
    return pygame.freetype.Font(str(file.path), 24, font_index=file.index)


def missing_glyphs(file: FontFile, text: str) -> list[str]:
    """Characters without a glyph in ``file`` (spaces and format characters excepted)."""
    probe = _probe(file)
    missing = []
    for char in dict.fromkeys(text):
        if char.isspace() or not char.isprintable():
            continue
        metrics = probe.get_metrics(char)
        if not metrics or metrics[0] is None:
            missing.append(char)
    return missing
