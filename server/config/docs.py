"""Writes docs/config.md from the configuration models: `python -m madoguchi.server.config.docs`.

The models (with their attribute docstrings) are the one description of the files; this page is
generated from them and a test fails when it is out of date.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from madoguchi.server.config.schema import CatalogConfig, SiteConfig

HEADER = """# Configuration files

Generated from `server/config/schema.py` by `python -m madoguchi.server.config.docs` — do not edit by hand.

`config/catalog.toml` describes what every office offers; `config/sites/<id>.toml` one site each.
`madoguchi check-config [--config-dir DIR]` checks both, and every command checks them at start-up.
Unknown keys are errors (a typo never passes silently).
"""


def _type_name(annotation: object) -> str:
    """A readable type: ``list[str]``, ``date | None``, ``Literal['open', 'paused']``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (types.UnionType, typing.Union):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default if field.default is not PydanticUndefined else field.default_factory()  # type: ignore[misc]
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{value!r}`" if value not in ([], {}) else "empty"


def _nested(annotation: object) -> list[type[BaseModel]]:
    """Models inside an annotation (``list[BandConfig]``, ``BrokerConfig``, ``X | None``…)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _nested(arg)]


def section(model: type[BaseModel], title: str, seen: set[type[BaseModel]]) -> list[str]:
    seen.add(model)
    lines = [f"## {title}", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    children = []
    for name, field in model.model_fields.items():
        meaning = (field.description or "").replace("\n", " ")
        kind = _type_name(field.annotation).replace("|", "\\|")
        lines.append(f"| `{name}` | `{kind}` | {_default(field)} | {meaning} |")
        children += [(name, m) for m in _nested(field.annotation) if m not in seen]
    lines.append("")
    for name, child in children:
        if child not in seen:
            lines += section(child, f"{title} → `{name}` ({child.__name__})", seen)
    return lines


def render() -> str:
    seen: set[type[BaseModel]] = set()
    lines = [HEADER]
    lines += section(SiteConfig, "sites/&lt;id&gt;.toml (SiteConfig)", seen)
    lines += section(CatalogConfig, "catalog.toml (CatalogConfig)", seen)
    return "\n".join(lines)


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/config.md")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
