"""Pillow fonts for the printed ticket, chosen by the shared font-per-script rule (common/fonts.py)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from madoguchi.common.fonts import FontFile, FontNotFoundError, Script, Weight, find_font, script_for_language

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

__all__ = ["FontFile", "FontNotFoundError", "Script", "Weight", "find_font", "load_font", "script_for_language"]


@functools.lru_cache(maxsize=128)
def load_font(script: Script, weight: Weight, size_px: int) -> FreeTypeFont:
    """A Pillow font object, cached: loading a .ttc face takes ~20 ms."""
    from PIL import ImageFont

    font_file = find_font(script, weight)
    return ImageFont.truetype(str(font_file.path), size_px, index=font_file.index)
