"""Font files Kivy can open: Kivy (SDL_ttf) always takes the first face of a font collection, so a face
further in (Noto Sans CJK's KR, SC, TC in Debian's .ttc) is written once to a file of its own.

Without this a Korean or Chinese label is drawn with the collection's first face, Japanese, whose glyph
forms differ (Chinese 直 骨 説 “”, Korean hanja 次 判 述 化…): readable, but foreign to those readers.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from madoguchi.common.fonts import FontFile

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "madoguchi" / "fonts"


def openable_path(font: FontFile, cache: Path | None = None) -> Path:
    """A file whose first face is ``font``: the file itself for face 0, else that face written out once
    (kept while the collection is unchanged). Where it cannot be written, the collection itself, logged."""
    if font.index == 0:
        return font.path
    folder = cache or cache_dir()
    target = folder / f"{font.path.stem}-face{font.index}{font.path.suffix.replace('.ttc', '.otf')}"
    try:
        if target.is_file() and target.stat().st_mtime >= font.path.stat().st_mtime:
            return target
        from fontTools.ttLib import TTCollection

        folder.mkdir(parents=True, exist_ok=True)
        with TTCollection(str(font.path), lazy=True) as collection:
            face = collection[font.index]
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as handle:
                face.save(handle)
        os.replace(handle.name, target)  # whole or not at all: a kiosk started twice never reads half a file
        return target
    except (OSError, IndexError) as exc:
        log.warning("cannot write face %d of %s to %s (%s): drawing with its first face", font.index, font.path,
                    folder, exc)
        return font.path
