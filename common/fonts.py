"""The font-per-script rule: which installed font draws each language (DESIGN §7b, §12).

Shared by the ticket printer, the kiosk and the display: none of the toolkits falls back between
fonts, so each text is drawn with the font of its language's script. Standard library only.

Noto Sans CJK (Debian fonts-noto-cjk) is a .ttc collection whose faces are JP, KR, SC, TC, HK in that
order, so the face index selects the regional glyph forms; Japanese prefers BIZ UDPGothic where installed.
Vietnamese uses Noto Sans, Nepali Noto Sans Devanagari (fonts-noto-core). When none of the known
paths exists, fontconfig's ``fc-match`` is asked, and only then do we give up with an install hint.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Weight = Literal["regular", "bold"]
Script = Literal["ja", "ko", "zh-hans", "zh-hant", "latin", "deva"]

_NOTO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-{w}.ttc"
_NOTO = "/usr/share/fonts/truetype/noto/NotoSans-{w}.ttf"
_NOTO_DEVA = "/usr/share/fonts/truetype/noto/NotoSansDevanagari-{w}.ttf"
# Debian fonts-morisawa-bizud-gothic: BIZ UDPGothic (proportional) and BIZ UDGothic (fixed width)
_BIZ_UDP = "/usr/share/fonts/truetype/bizud-gothic/BIZUDPGothic-{w}.ttf"
_BIZ_UD = "/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-{w}.ttf"

# (path template, face index) candidates per script, best first.
_CANDIDATES: dict[Script, list[tuple[str, int]]] = {
    # the universal-design face made for elderly and low-vision readers first (DESIGN §12)
    "ja": [(_BIZ_UDP, 0), (_BIZ_UD, 0), (_NOTO_CJK, 0)],
    "ko": [(_NOTO_CJK, 1)],
    "zh-hans": [(_NOTO_CJK, 2)],
    "zh-hant": [(_NOTO_CJK, 3)],
    "latin": [(_NOTO, 0), (_NOTO_CJK, 0)],
    "deva": [(_NOTO_DEVA, 0)],
}
_FC_PATTERNS: dict[Script, str] = {
    "ja": "Noto Sans CJK JP",
    "ko": "Noto Sans CJK KR",
    "zh-hans": "Noto Sans CJK SC",
    "zh-hant": "Noto Sans CJK TC",
    "latin": "Noto Sans",
    "deva": "Noto Sans Devanagari",
}


class FontNotFoundError(RuntimeError):
    """No usable font for a script: the machine lacks the Debian font package."""


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int


def script_for_language(language: str) -> Script:
    """The script whose font can draw text written in ``language`` (BCP 47; ``ja-easy`` is Japanese)."""
    base, _, region = language.partition("-")
    if base == "ja":
        return "ja"
    if base == "ko":
        return "ko"
    if base == "zh":
        return "zh-hant" if region.upper() in {"TW", "HK", "MO", "HANT"} else "zh-hans"
    if base in {"ne", "hi", "mr"}:
        return "deva"
    return "latin"


@functools.lru_cache(maxsize=32)
def find_font(script: Script, weight: Weight) -> FontFile:
    """The font file for a script and weight, or FontNotFoundError naming the package to install."""
    w = "Bold" if weight == "bold" else "Regular"
    for template, index in _CANDIDATES[script]:
        path = Path(template.format(w=w))
        if path.is_file():
            return FontFile(path, index)
    found = _fc_match(f"{_FC_PATTERNS[script]}:{weight}")
    if found is not None:
        return found
    raise FontNotFoundError(
        f"no font for script {script!r}: install Debian fonts-noto-cjk and fonts-noto-core"
    )


def _fc_match(pattern: str) -> FontFile | None:
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}\t%{index}", pattern],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, index = out.partition("\t")
    if not path or not Path(path).is_file():
        return None
    # fc-match always answers with something; only accept a face whose family matches the request.
    family = pattern.split(":", 1)[0].replace(" ", "").lower()
    if family not in Path(path).name.replace("-", "").lower():
        return None
    return FontFile(Path(path), int(index or 0))


SHAPING_SCRIPT: dict[Script, str] = {"deva": "Deva"}
"""ISO 15924 code that text shapers must be told for a script they mis-shape by default: Devanagari
(Kivy's ``font_script_name``, pygame's ``Font.set_script``)."""


def shaping_script(language: str) -> str | None:
    """The script code to set on a label drawing ``language``, or None when the default shaping is right."""
    return SHAPING_SCRIPT.get(script_for_language(language))
