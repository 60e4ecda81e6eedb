"""Request validation errors as sentences a person can act on, in Japanese and English.

pydantic's own texts ("Field required") are English and name fields by their JSON path; here each
error type is a catalog message (``errors`` / ``validation.<type>``) and each field has a catalog
name (``errors`` / ``field.<path>``: 「生年月日」, not ``card.birth_date``). The input itself is never
quoted, only the field and the rule it broke.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from madoguchi.common.i18n import catalog, message

MAX_LISTED = 5
LOCATIONS = ("body", "query", "path", "header", "cookie")
# pydantic error types that say the same thing to a person
SAME_AS = {
    "int_parsing": "int_type", "int_from_float": "int_type", "bool_parsing": "bool_type",
    "date_parsing": "date_type", "date_from_datetime_parsing": "date_type",
    "date_from_datetime_inexact": "date_type", "model_type": "dict_type", "model_attributes_type": "dict_type",
    "enum": "literal_error", "string_pattern_mismatch": "invalid", "value_error": "invalid",
}
JOINERS = {"ja": "", "en": " "}
DATE_BOUNDS = {"greater_than_equal": "date_from", "less_than_equal": "date_until"}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def path_of(error: Mapping[str, Any]) -> tuple[str, list[int]]:
    """The field's dotted path without list indices, and the indices (0-based) along it."""
    names: list[str] = []
    indices: list[int] = []
    for part in error.get("loc", ()):
        if isinstance(part, int):
            indices.append(part)
        elif part not in LOCATIONS or names:
            names.append(str(part))
    return ".".join(names), indices


def field_name(path: str, indices: Sequence[int], language: str) -> str:
    """「世帯の2人目の方の年齢」 for answers.household.1.age; the path itself when the catalog has no name."""
    known = catalog("ja")
    parts = path.split(".")
    if len(parts) >= 2 and parts[0] == "answers" and parts[1] != "household":
        return message("errors", "field.answer", language, question=_short(parts[1]))
    for start in range(len(parts)):  # the longest known suffix: card.birth_date, then birth_date
        key = "field." + ".".join(parts[start:])
        if ("errors", key) in known:
            n = indices[0] + 1 if indices else None
            name = message("errors", key, language, n=n)
            if n is not None and "{n}" not in catalog("ja")[("errors", key)]:
                name += message("errors", "field_item", language, n=n)
            return name
    return f"「{_short(path)}」" if language.startswith("ja") else f"'{_short(path)}'"


def sentence(error: Mapping[str, Any], language: str) -> str:
    path, indices = path_of(error)
    kind = SAME_AS.get(str(error.get("type")), str(error.get("type")))
    if ("errors", f"validation.{kind}") not in catalog("ja"):
        kind = "invalid"
    ctx = dict(error.get("ctx") or {})
    bound = ctx.get("ge", ctx.get("le"))
    if kind in DATE_BOUNDS and DATE.fullmatch(str(bound)):  # 「1900-01-01以降」, not 「以上」
        kind = DATE_BOUNDS[kind]
    params: dict[str, object] = {k: _short(str(v)) for k, v in ctx.items() if k != "error"}
    if kind == "literal_error":
        params["expected"] = _choices(str(ctx.get("expected", "")), language)
    field = field_name(path, indices, language) if path else message("errors", "field.body", language)
    return message("errors", f"validation.{kind}", language, field=field, **params)


def sentences(errors: Sequence[Mapping[str, Any]], language: str) -> str:
    """At most MAX_LISTED sentences, then how many more."""
    seen: list[str] = []
    for error in errors:
        text = sentence(error, language)
        if text not in seen:
            seen.append(text)
    shown = seen[:MAX_LISTED]
    if len(seen) > MAX_LISTED:
        shown.append(message("errors", "validation.more", language, n=len(seen) - MAX_LISTED))
    return JOINERS.get(language, " ").join(shown)


def summary(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """For programs: which field, which rule (no input values, no English text)."""
    return [{"field": path_of(e)[0] or "body", "type": str(e.get("type"))} for e in errors[:20]]


def _choices(expected: str, language: str) -> str:
    options = re.findall(r"'([^']*)'", expected) or [expected]
    return ("、" if language.startswith("ja") else ", ").join(options)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
