"""Which characters of a text the font it is drawn with has no glyph for (fontTools cmap)."""

from __future__ import annotations

import unicodedata
from functools import cache

from fontTools.ttLib import TTCollection, TTFont


@cache
def cmap(path: str) -> frozenset[int]:
    font = TTCollection(path).fonts[0] if path.lower().endswith(".ttc") else TTFont(path)
    return frozenset(font.getBestCmap())


def missing_glyphs(text: str, font_path: str) -> list[str]:
    have = cmap(font_path)
    return sorted({ch for ch in text if ord(ch) not in have and not ch.isspace()
                   and unicodedata.category(ch) not in ("Cc", "Cf")})
