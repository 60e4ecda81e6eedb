"""Message catalogs: gettext ``.po`` files in common/locales/<language>.po, one set for every surface.

Each message has a context (the surface: ``errors``, ``status``…) and a key as its msgid; a translator
edits one file per language with the usual gettext tools, and sees the Japanese and English texts as
extracted comments. Japanese is complete and the fallback after English; a message a language leaves
untranslated (empty ``msgstr``) falls back. Parameters are filled with str.format; a missing
parameter leaves its ``{name}`` visible rather than failing.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from importlib import resources

from babel.messages.pofile import read_po

FALLBACKS = ("en", "ja")


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@cache
def catalog(language: str) -> Mapping[tuple[str, str], str]:
    """The translated messages of one language: (context, key) -> text; empty for an unknown language."""
    path = resources.files("madoguchi.common") / "locales" / f"{language}.po"
    if not path.is_file():
        return {}
    with path.open("rb") as po:
        messages = read_po(po, abort_invalid=True)
    return {(m.context or "", str(m.id)): str(m.string) for m in messages if m.id and m.string}


def message(section: str, key: str, language: str = "ja", **params: object) -> str:
    """The text of ``section.key`` in ``language`` (falling back to English, then Japanese)."""
    for lang in (language, *FALLBACKS):
        text = catalog(lang).get((section, key))
        if text is not None:
            return string.Formatter().vformat(text, (), _Lenient(params))
    return key
