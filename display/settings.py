"""What a display reads from the configuration: its own ``display.toml`` and the site's name.

The display box does not install the server, so it reads the two TOML files itself with models of
its own (the site file is validated by the server's ``check-config``; here only ``name`` is taken).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from madoguchi.common.cli import CommandError
from madoguchi.common.languages import LANGUAGE_NAMES

LANGUAGES = tuple(LANGUAGE_NAMES)


class DisplaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    languages: list[str] = Field(default_factory=lambda: ["ja", "en"], min_length=1)
    """Languages the board turns through; the first should be ja."""
    rotate_s: float = Field(8.0, ge=2, le=120)
    """Seconds each language stays on the board."""
    spoken_languages: list[str] = Field(default_factory=lambda: ["ja"])
    """Languages each call is spoken in, in order, after the chime."""
    volume: float = Field(0.8, ge=0, le=1)
    """Loudness of chime and speech."""
    highlight_s: float = Field(12.0, ge=1, le=120)
    """Seconds a new call stays highlighted before it joins the list."""
    stale_after_s: float = Field(75.0, ge=5, le=3600)
    """No state for this long: the board says it cannot be trusted."""
    message: dict[str, str] = Field(default_factory=dict)
    """The line at the foot of the board, per language."""
    site_name: dict[str, str] = Field(default_factory=dict)
    """The office's name per language (from sites/<site>.toml)."""

    def rotation(self) -> list[str]:
        """The order languages appear in: Japanese between each other language (ja, en, ja, zh, …)."""
        others = [lang for lang in self.languages if lang != "ja"]
        if not others:
            return ["ja"]
        return [step for lang in others for step in ("ja", lang)]


def default_config_dir() -> Path:
    return Path(str(resources.files("madoguchi.config")))


def _read(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise CommandError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise CommandError(f"{path}: not valid TOML: {exc}") from None


class SiteBasics(BaseModel):
    """What the display takes from sites/<site>.toml (the server validates the whole file)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: dict[str, str]
    timezone: str = "Asia/Tokyo"
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    broker_tls_ca_file: str | None = None


def load_site(config_dir: Path | None, site: str) -> SiteBasics:
    root = config_dir or default_config_dir()
    site_file = root / "sites" / f"{site}.toml"
    if not site_file.is_file():
        known = sorted(p.stem for p in (root / "sites").glob("*.toml"))
        raise CommandError(f"no site {site!r} in {root / 'sites'} (known: {', '.join(known)})")
    raw = _read(site_file)
    broker = raw.get("broker", {})
    broker = broker if isinstance(broker, dict) else {}
    try:
        return SiteBasics.model_validate({**raw, "broker_host": broker.get("host", "127.0.0.1"),
                                          "broker_port": broker.get("port", 1883),
                                          "broker_tls_ca_file": broker.get("tls_ca_file")})
    except ValidationError as exc:
        raise CommandError(f"{site_file}: {exc.errors()[0]['msg']}") from None


def load_settings(config_dir: Path | None, site: str) -> DisplaySettings:
    """The display settings of ``site``: display.toml's defaults, its [sites.<site>] table, the site's name."""
    root = config_dir or default_config_dir()
    name = load_site(config_dir, site).name
    values: dict[str, object] = {}
    display_file = root / "display.toml"
    if display_file.is_file():
        raw = _read(display_file)
        per_site = raw.pop("sites", {})
        values.update(raw)
        if isinstance(per_site, dict) and isinstance(per_site.get(site), dict):
            values.update(per_site[site])
    values["site_name"] = name
    try:
        settings = DisplaySettings.model_validate(values)
    except ValidationError as exc:
        problems = [f"{display_file.name}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CommandError("; ".join(problems)) from None
    unknown = [lang for lang in [*settings.languages, *settings.spoken_languages] if lang not in LANGUAGES]
    if unknown:
        raise CommandError(f"{display_file.name}: unknown language(s) {unknown}; known: {list(LANGUAGES)}")
    return settings
