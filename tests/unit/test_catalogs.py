"""Every language a resident or a clerk can choose has every message, with the same placeholders.

English (``en.po``) lists the messages; Japanese is the authoritative text. A message left empty in
a language falls back to English at run time, which a Nepali-reading resident would notice as an
English sentence in the middle of their screen, so no catalog may leave one empty.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from importlib import resources

import pytest
from babel.messages.pofile import read_po

from madoguchi.common.i18n import message

LANGUAGES = ("ja-easy", "vi", "zh", "ko", "ne")


def _entries(language: str) -> dict[tuple[str, str], str]:
    path = resources.files("madoguchi.common") / "locales" / f"{language}.po"
    with path.open("rb") as po:
        messages = read_po(po, abort_invalid=True)
    return {(m.context or "", str(m.id)): str(m.string) for m in messages if m.id}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


EN = _entries("en")
JA = _entries("ja")


def test_japanese_and_english_have_the_same_messages_and_placeholders():
    assert set(JA) == set(EN)
    differing = [key for key in EN if _placeholders(EN[key]) != _placeholders(JA[key])]
    assert differing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_source_placeholders(language: str):
    entries = _entries(language)
    absent = [f"{ctx}.{key}" for ctx, key in EN if (ctx, key) not in entries]
    empty = [f"{ctx}.{key}" for (ctx, key), text in entries.items() if (ctx, key) in EN and not text.strip()]
    wrong = [
        f"{ctx}.{key}: {sorted(_placeholders(text))} != {sorted(_placeholders(EN[ctx, key]))}"
        for (ctx, key), text in entries.items()
        if (ctx, key) in EN and text and _placeholders(text) != _placeholders(EN[ctx, key])
    ]
    assert (absent, empty, wrong) == ([], [], []), (
        f"{language}: {len(absent)} absent, {len(empty)} empty, {len(wrong)} with other placeholders"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_resident_sees_their_own_language_not_the_english_fallback(language: str):
    text = message("errors", "counter_lacks_skill", language, counter="C1", procedure="X")
    english = message("errors", "counter_lacks_skill", "en", counter="C1", procedure="X")
    assert "C1" in text and "X" in text
    assert text != english


@pytest.mark.parametrize("language", ("en", "ja", *LANGUAGES))
def test_no_message_is_written_twice_in_a_catalog(language: str):
    """A second entry with the same context and key would silently hide one of the two texts."""
    text = (resources.files("madoguchi.common") / "locales" / f"{language}.po").read_text(encoding="utf-8")
    pairs = Counter(re.findall(r'^msgctxt "(.*)"\nmsgid "(.*)"$', text, re.MULTILINE))
    assert pairs and [pair for pair, n in pairs.items() if n > 1] == []
