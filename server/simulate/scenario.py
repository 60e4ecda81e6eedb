"""A scenario file (config/scenarios/NAME.toml): who arrives when, what they need, how long it takes.

Every number lives in the file with its source or reasoning in a comment next to it; this module
only reads and checks the file. The same scenario drives both policies: only the routing (one
ticket vs a ticket per department), the forms (kiosk vs by hand) and the policy differ.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from madoguchi.server.config.schema import ConfigError, _read_toml, _validation_problems

Minutes = Annotated[float, Field(ge=0, le=600)]
Share = Annotated[float, Field(ge=0, le=1)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stream(Model):
    """One kind of visit: a life event (with household answers) or a list of procedures."""

    id: str
    life_event: str | None = None
    procedures: list[str] | None = None
    per_day: float = Field(ge=0)
    """Mean visits on a day of this scenario (Poisson), before ``volume``."""

    @model_validator(mode="after")
    def _one_kind(self) -> Stream:
        if (self.life_event is None) == (self.procedures is None):
            raise ValueError("give exactly one of life_event and procedures")
        return self


class MemberSpec(Model):
    relation: Literal["self", "spouse", "child", "parent", "other"]
    age: tuple[int, int]
    count: tuple[int, int] = (1, 1)


class HouseholdType(Model):
    id: str
    share: float = Field(gt=0)
    members: list[MemberSpec]
    answers: dict[str, float] = {}
    """Probability of a yes per question for this household type, overriding the general one."""


class Handling(Model):
    distribution: Literal["lognormal", "exponential", "gamma", "mixture"] = "lognormal"
    """The shape of a step's minutes around its mean: lognormal or gamma with ``cv``, exponential (cv 1),
    or ``mixture``: three cases in four quick (0.7 × the mean, cv 0.3), one in four long (1.9 ×, cv 0.4)
    — routine cases and ones with a complication, a bimodal shape no single family fits."""
    cv: float = Field(0.5, gt=0, le=3)
    multiplier: float = Field(1.0, gt=0)
    """Every procedure's mean is its catalog prior times this (and times ``per_procedure``)."""
    per_procedure: dict[str, float] = {}


class Resident(Model):
    kiosk_min: Minutes = 3.0
    """Life-event visit at the kiosk (balanced): questions and the card's four items."""
    kiosk_simple_min: Minutes = 1.0
    walk_to_counter_min: Minutes = 1.0
    """From the call to sitting down at the counter."""
    recall_wait_min: Minutes = 3.0
    """How long a counter waits (calling twice) before marking a no-show."""
    no_show: dict[str, Share] = {}
    """Per band: share of visits that have left before they are called."""
    priority_share: Share = 0.0


class Static(Model):
    """Today's practice: a ticket per department, forms by hand."""

    forms_min: dict[str, Minutes] = {}
    """Writing the forms of a department (key: department id, or band id for simple visits)."""
    extra_input_min: Minutes = 5.0
    """Reception/input of a handwritten life-event form: 13 min instead of 8 (届出ナビ)."""
    walk_between_departments_min: Minutes = 3.0


class Balanced(Model):
    layout: Literal["site", "department_counters"] = "site"
    """``site``: counters as configured (a one-stop counter continues every step of the visit).
    ``department_counters``: each counter keeps to its own department's procedures, so a visit's
    福祉課 and 保健子ども課 steps wait for those departments' counters (one ticket, place kept)."""
    handover_min: Minutes = 1.0
    """At a one-stop counter, staff of the next department take over."""
    guide_every_min: float = Field(15.0, gt=0)
    """How often the floor guide looks at the suggestions and accepts the first."""
    guide_accepts: bool = True


class Staff(Model):
    closed: list[str] = []
    """Counters not staffed at all in this scenario."""
    lunch_from: dt.time = dt.time(11, 30)
    lunch_min: Minutes = 60.0
    lunch_groups: int = Field(2, ge=1, le=4)
    """Counters of a department take lunch in this many staggered groups, one after another."""


class Outage(Model):
    counters: list[str] = []
    """A counter picked at random among these goes down once a day (terminal or printer fault)."""
    probability: Share = 0.0
    duration_min: Minutes = 60.0
    earliest: dt.time = dt.time(10, 0)
    latest: dt.time = dt.time(15, 0)


class Scenario(Model):
    name: str
    description: str
    base: str | None = None
    """Another scenario this one starts from; its tables are merged key by key, lists replaced."""
    site: str = "chuo"
    first_day: dt.date
    volume: float = Field(1.0, gt=0)
    stream_volume: dict[str, float] = {}
    """Per stream id, a further multiplier of its ``per_day`` (e.g. moves in the March–April peak)."""
    hourly_profile: dict[str, float]
    """Relative arrival rate per clock hour ("8" = 8:00–9:00), cut to reception hours."""
    streams: list[Stream]
    household_types: list[HouseholdType] = []
    answers: dict[str, float] = {}
    """Probability of a yes per bool question, or per option for choice questions (``q=option``)."""
    handling: Handling = Handling()
    resident: Resident = Resident()
    static: Static = Static()
    balanced: Balanced = Balanced()
    staff: Staff = Staff()
    outage: Outage = Outage()
    serve_until: dt.time = dt.time(19, 0)
    """Counters keep serving everyone who took a ticket; whoever is left then is 'open at close'."""

    @model_validator(mode="after")
    def _known_streams(self) -> Scenario:
        unknown = sorted(set(self.stream_volume) - {s.id for s in self.streams})
        if unknown:
            raise ValueError(f"stream_volume names streams that do not exist: {', '.join(unknown)}")
        return self

    def rate_per_hour(self) -> dict[int, float]:
        return {int(hour): weight for hour, weight in self.hourly_profile.items()}


def scenario_ids(config_dir: Path) -> list[str]:
    return sorted(p.stem for p in (config_dir / "scenarios").glob("*.toml"))


def merged(base: dict[str, object], override: dict[str, object]) -> dict[str, object]:
    result = dict(base)
    for key, value in override.items():
        current = result.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            result[key] = merged(current, value)
        else:
            result[key] = value
    return result


def _raw(config_dir: Path, name: str, seen: tuple[str, ...] = ()) -> dict[str, object]:
    path = config_dir / "scenarios" / f"{name}.toml"
    if not path.exists():
        known = ", ".join(scenario_ids(config_dir)) or "none"
        raise ConfigError([f"scenarios/{name}.toml: no such scenario (known: {known})"])
    data = _read_toml(path, config_dir)
    base = data.get("base")
    if isinstance(base, str):
        if base in seen or base == name:
            raise ConfigError([f"scenarios/{name}.toml: base: '{base}' leads back to itself"])
        data = merged(_raw(config_dir, base, (*seen, name)), data)
    return data


def load_scenario(config_dir: Path, name: str) -> Scenario:
    data = _raw(config_dir, name)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_validation_problems(f"scenarios/{name}.toml", exc)) from None
