"""Message catalogs: server/locales/<language>.toml, one section per surface (errors, status…).

Japanese is complete and the fallback after English; every other language may leave keys out.
Parameters are filled with str.format; a missing parameter leaves its {name} visible rather than failing.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources

FALLBACKS = ("en", "ja")


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@cache
def catalog(language: str) -> Mapping[str, Mapping[str, str]]:
    path = resources.files("madoguchi.server") / "locales" / f"{language}.toml"
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def message(section: str, key: str, language: str = "ja", **params: object) -> str:
    """The text of ``section.key`` in ``language`` (falling back to English, then Japanese)."""
    for lang in (language, *FALLBACKS):
        text = catalog(lang).get(section, {}).get(key)
        if text is not None:
            return string.Formatter().vformat(text, (), _Lenient(params))
    return key

