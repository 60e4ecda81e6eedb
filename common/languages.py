"""The languages residents may choose (DESIGN §10), each named in itself for a language picker."""

from __future__ import annotations

LANGUAGE_NAMES: dict[str, str] = {
    "ja": "日本語",
    "ja-easy": "やさしい にほんご",
    "en": "English",
    "vi": "Tiếng Việt",
    "zh": "中文",
    "ko": "한국어",
    "ne": "नेपाली",
}
"""Language code -> its own name, in the order a picker shows them."""


def language_name(language: str) -> str:
    """The name of ``language`` written in that language (the code itself when unknown)."""
    return LANGUAGE_NAMES.get(language, language)
