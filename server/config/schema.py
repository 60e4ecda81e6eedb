"""Configuration: the TOML files of config/ read through pydantic, checked, turned into core data.

``config/catalog.toml`` holds what any office offers (languages, departments, procedures,
questions, life events with guidance rules); ``config/sites/<id>.toml`` one site each (hours,
bands, counters, broker). Every error names the file, the key and what is wrong, one per line.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from madoguchi.server.core.site import PolicyRules

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
LabelMap = dict[str, str]


def default_config_dir() -> Path:
    return Path(str(resources.files("madoguchi.config")))


class ConfigError(Exception):
    """One or more problems, each a line a clerk can act on."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _check_label(value: LabelMap) -> LabelMap:
    if not value.get("ja"):
        raise ValueError("a Japanese text (ja) is required")
    return value


Label = Annotated[LabelMap, Field(min_length=1)]


# ----- catalog.toml


class ProcedureConfig(Model):
    id: Slug
    """Stable id, used in plans, skills, exports (snake_case ASCII)."""
    label: Label
    """Shown name per language; `ja` required."""
    band: Slug
    """Band of a ticket for this procedure alone (simple procedures), and its family otherwise."""
    department: Slug
    """Department serving it (a key of `departments`)."""
    handling_min: float = Field(gt=0, le=240)
    """Prior handling minutes, used until enough are measured."""
    bring: list[Label] = []
    """What to bring, shown on the kiosk and status page."""
    simple: bool = False
    """Offered on its own at the kiosk (and doable on paper at a simple counter)."""
    available_from: dt.date | None = None
    """First day it is offered (procedures of 2027); offered always when absent."""
    sensitive: bool = False
    """Tells something private about the resident (a death in the family, welfare, disability, a
    divorce): once the visit is done, the status page (reachable by anyone holding the ticket or its
    link) no longer lists it, nor the visit's band."""
    juminido: Literal["tennyu", "tenkyo", "tenshutsu"] | None = None
    """A 住民異動届 of this kind (転入, 転居, 転出): for a visit with card data, the counter console offers
    the form pre-filled from the card, to complete, print and hand off (docs/staff.md)."""

    _label = field_validator("label")(_check_label)


class OptionConfig(Model):
    id: Slug
    """The answer's value."""
    label: Label
    """Shown text per language."""


class QuestionConfig(Model):
    id: Slug
    """The key of its answer in `answers`."""
    type: Literal["household", "bool", "choice"]
    """household: ages and relations of members; bool: yes/no; choice: one of `options`."""
    label: Label
    """The question as the kiosk asks it, per language."""
    options: list[OptionConfig] = []
    """Choices of a `choice` question."""

    _label = field_validator("label")(_check_label)

    @model_validator(mode="after")
    def _options_match_type(self) -> QuestionConfig:
        if self.type == "choice" and len(self.options) < 2:
            raise ValueError("a choice question needs at least two options")
        if self.type != "choice" and self.options:
            raise ValueError(f"a {self.type} question takes no options")
        return self


class RuleConfig(Model):
    procedure: Slug
    """The procedure added to the plan when every condition given holds."""
    member_age: tuple[int, int] | None = None
    """Some household member's age lies in [lo, hi]."""
    answers: dict[str, bool | str | list[bool | str]] = {}
    """Each named answer equals the value (or one of the list)."""

    @field_validator("member_age")
    @classmethod
    def _age_range(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not 0 <= value[0] <= value[1] <= 130:
            raise ValueError(f"{value[0]}-{value[1]}: ages must satisfy 0 ≤ lo ≤ hi ≤ 130")
        return value


class LifeEventConfig(Model):
    id: Slug
    """Stable id (tennyu, tenkyo, tenshutsu, okuyami, shussei, konin, rikon)."""
    label: Label
    """Shown name per language; `ja` required."""
    band: Slug
    """Number band of its tickets."""
    questions: list[Slug] = []
    """Questions the kiosk asks, in order."""
    always: list[Slug] = Field(min_length=1)
    """Procedures every such visit has (e.g. 住民異動届)."""
    rules: list[RuleConfig] = []
    """Guidance: procedures added when the answers match."""
    available_from: dt.date | None = None
    """First day it is offered (2027 life events); always when absent."""

    _label = field_validator("label")(_check_label)


class CatalogConfig(Model):
    languages: list[str] = Field(min_length=1)
    """Languages offered, in the order the kiosk shows them; the first is the default."""
    counter_label: LabelMap
    """Template of a counter's label per language, with {n} for its number."""
    departments: dict[Slug, Label]
    """Departments (区民課, 福祉課, 保健子ども課) by id, with their names."""
    procedures: list[ProcedureConfig]
    """Every procedure, in serving order: a visit's plan follows this order."""
    questions: list[QuestionConfig]
    """Questions the life events may ask."""
    life_events: list[LifeEventConfig]
    """Life events offered at the kiosk, in the order shown."""

    @model_validator(mode="after")
    def _references(self) -> CatalogConfig:
        problems = list(_catalog_problems(self))
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _duplicates(ids: list[str]) -> set[str]:
    return {i for i in ids if ids.count(i) > 1}


def _catalog_problems(catalog: CatalogConfig) -> Iterator[str]:
    procedures = {p.id for p in catalog.procedures}
    questions = {q.id: q for q in catalog.questions}
    for kind, ids in (("procedure", [p.id for p in catalog.procedures]),
                      ("question", [q.id for q in catalog.questions]),
                      ("life event", [e.id for e in catalog.life_events])):
        for dup in sorted(_duplicates(ids)):
            yield f"{kind} '{dup}' is defined twice"
    for p in catalog.procedures:
        if p.department not in catalog.departments:
            yield f"procedure '{p.id}' has department '{p.department}' which is not in departments"
    for e in catalog.life_events:
        for pid in [*e.always, *(r.procedure for r in e.rules)]:
            if pid not in procedures:
                yield f"life event '{e.id}' names procedure '{pid}' which is not in procedures"
        for qid in e.questions:
            if qid not in questions:
                yield f"life event '{e.id}' asks question '{qid}' which is not in questions"
        for r in e.rules:
            for qid, value in r.answers.items():
                question = questions.get(qid)
                if question is None or qid not in e.questions:
                    yield f"life event '{e.id}': a rule for '{r.procedure}' reads answer '{qid}' it never asks"
                    continue
                values = value if isinstance(value, list) else [value]
                if question.type == "choice":
                    allowed = {o.id for o in question.options}
                    wrong = [v for v in values if v not in allowed]
                    if wrong:
                        yield f"life event '{e.id}': answer '{qid}' has no option {wrong}"
                elif question.type == "bool" and not all(isinstance(v, bool) for v in values):
                    yield f"life event '{e.id}': answer '{qid}' is yes/no (true/false)"
            if r.member_age is not None and "household" not in e.questions:
                yield f"life event '{e.id}': a rule for '{r.procedure}' uses ages but the household is not asked"


# ----- sites/<id>.toml


class BandConfig(Model):
    id: Slug
    """Stable id (simple, onestop, okuyami)."""
    label: Label
    """Shown name per language (displays, tickets, status page)."""
    range: tuple[int, int]
    """First and last number of the band; numbers restart at the first each day."""
    target_wait_min: float = Field(gt=0, le=480)
    """The wait the office aims at; the policy serves the band furthest behind it first."""

    _label = field_validator("label")(_check_label)

    @field_validator("range")
    @classmethod
    def _range(cls, value: tuple[int, int]) -> tuple[int, int]:
        lo, hi = value
        if lo < 1:
            raise ValueError(f"{lo}-{hi}: numbers start at 1 or more")
        if hi < lo:
            raise ValueError(f"{lo}-{hi}: end must be ≥ start")
        if hi > 9999:
            raise ValueError(f"{lo}-{hi}: at most 4 digits fit on displays")
        return value


class CounterConfig(Model):
    id: Slug
    """Stable id used by the API (c1, c2…)."""
    number: int = Field(ge=1, le=999)
    """Shown and announced: 「3番窓口」."""
    department: Slug
    """Department of its staff."""
    skills: list[str] = Field(min_length=1)
    """Band ids (every procedure of that band) and/or procedure ids this counter serves."""
    state: Literal["open", "paused", "closed"] = "open"
    """State at start of day."""
    label: LabelMap | None = None
    """Overrides the catalog's counter_label template."""


class HoursConfig(Model):
    open: dt.time = dt.time(8, 30)
    """Reception opens (tickets are issued from then)."""
    close: dt.time = dt.time(17, 15)
    """Reception closes (no ticket at or after this time)."""

    @model_validator(mode="after")
    def _order(self) -> HoursConfig:
        if self.close <= self.open:
            raise ValueError(f"close {self.close:%H:%M} must be after open {self.open:%H:%M}")
        return self


class BrokerConfig(Model):
    host: str = "127.0.0.1"
    """The site's MQTT broker."""
    port: int = Field(1883, ge=1, le=65535)
    """Its port."""
    username: str | None = None
    """Broker user of the server; its password comes from MADOGUCHI_MQTT_PASSWORD."""
    keepalive_s: int = Field(30, ge=5, le=600)
    """MQTT keepalive; the broker declares the server offline after 1.5 × this without traffic."""
    tls_ca_file: str | None = None
    """CA certificate that signed the broker's; when set, the server connects over TLS (then `port`
    is the broker's TLS port, usually 8883). See docs/mqtt.md, certificates."""
    tls_cert_file: str | None = None
    """Client certificate of the server, if the broker asks for one (`require_certificate`)."""
    tls_key_file: str | None = None
    """Private key of that client certificate."""


class PolicyConfig(Model):
    priority_credit_min: float = Field(PolicyRules.priority_credit_min, ge=0, le=120)
    """How many minutes of waiting a priority flag is worth (the bound on overtaking)."""
    walk_min: float = Field(PolicyRules.walk_min, ge=0, le=15)
    """Minutes from a call to the resident sitting at the counter."""
    aging_factor: float = Field(PolicyRules.aging_factor, ge=0, le=20)
    """Weight of a band's time without any call, so a flooded band cannot starve the others."""


class StayTargetConfig(Model):
    target: float = Field(gt=0, le=600)
    """The stay (庁内滞在時間, ticket to the visit's end) the city aims at for this life event, in minutes."""
    baseline: float | None = Field(None, gt=0, le=600)
    """The stay measured before the one-stop service (shown beside the target), in minutes."""


class KpiTargetsConfig(Model):
    stay_min: dict[Slug, StayTargetConfig] = {}
    """Stay targets per life event id (e.g. `tennyu = { baseline = 129, target = 79 }`), drawn on the
    manager dashboard's charts."""


class SiteConfig(Model):
    id: Slug
    """Site id, the file name (chuo, higashi, … takuma …)."""
    name: Label
    """The office's name per language (tickets, status page)."""
    kind: Literal["ward_office", "branch_office"]
    """区役所 or 総合出張所."""
    wave: Literal[1, 2]
    """Wave 1: the five ward offices (2026); wave 2: the eight branch offices (2027)."""
    service_from: dt.date
    """First day of the one-stop service at this site; tickets are refused before it."""
    timezone: str = "Asia/Tokyo"
    """Time zone of service days and reception hours."""
    hours: HoursConfig = HoursConfig()
    """Reception hours."""
    bands: list[BandConfig] = Field(min_length=1)
    """Number bands (番号帯); ranges may not overlap."""
    counters: list[CounterConfig] = Field(min_length=1)
    """Counters (窓口) with the skills they serve."""
    broker: BrokerConfig = BrokerConfig()
    """MQTT broker the server publishes to."""
    policy: PolicyConfig = PolicyConfig()
    """Knobs of the balancing policy."""
    kpi_targets: KpiTargetsConfig = KpiTargetsConfig()
    """The city's targets the manager dashboard draws in (band wait targets are the bands' own)."""

    _name = field_validator("name")(_check_label)

    @model_validator(mode="after")
    def _consistent(self) -> SiteConfig:
        problems = []
        for kind, ids in (("band", [b.id for b in self.bands]), ("counter", [c.id for c in self.counters])):
            problems += [f"{kind} '{dup}' is defined twice" for dup in sorted(_duplicates(ids))]
        ranked = sorted(self.bands, key=lambda b: b.range[0])
        for a, b in itertools.pairwise(ranked):
            if b.range[0] <= a.range[1]:
                problems.append(f"bands '{a.id}' and '{b.id}' overlap ({a.range[0]}-{a.range[1]}, "
                                f"{b.range[0]}-{b.range[1]})")
        if problems:
            raise ValueError("; ".join(problems))
        return self


# ----- loading


def _read_toml(path: Path, root: Path) -> dict[str, object]:
    name = path.relative_to(root).as_posix()
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{name}: file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{name}: not valid TOML: {exc}"]) from None


def _validation_problems(name: str, exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        value = error.get("input")
        shown = ""
        if error["type"] not in ("missing", "extra_forbidden") and not isinstance(value, dict | list):
            shown = f"{value!r}: "
        problems.append(f"{name}: {where + ': ' if where else ''}{shown}{message}")
    return problems


def load_catalog(config_dir: Path) -> CatalogConfig:
    data = _read_toml(config_dir / "catalog.toml", config_dir)
    try:
        return CatalogConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_validation_problems("catalog.toml", exc)) from None


def site_ids(config_dir: Path) -> list[str]:
    return sorted(p.stem for p in (config_dir / "sites").glob("*.toml"))


def load_site(config_dir: Path, site_id: str) -> SiteConfig:
    path = config_dir / "sites" / f"{site_id}.toml"
    if not path.exists():
        known = ", ".join(site_ids(config_dir)) or "none"
        raise ConfigError([f"sites/{site_id}.toml: no such site (known sites: {known})"])
    data = _read_toml(path, config_dir)
    try:
        site = SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_validation_problems(f"sites/{site_id}.toml", exc)) from None
    if site.id != site_id:
        raise ConfigError([f"sites/{site_id}.toml: id: {site.id!r}: must match the file name"])
    return site
