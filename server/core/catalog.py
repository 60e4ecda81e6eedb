"""What the office offers: bands, procedures, questions, life events and guidance rules.

Plain frozen data, built from config/ by the configuration adapter. Labels map a language code
to text; Japanese ("ja") is always present and is the fallback after English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Label = Mapping[str, str]


def text_in(label: Label, language: str) -> str:
    """The label in ``language``, else English, else Japanese."""
    return label.get(language) or label.get("en") or label["ja"]


@dataclass(frozen=True)
class Band:
    """番号帯: a number range with its own queue and target wait."""

    id: str
    label: Label
    lo: int
    hi: int
    target_wait_min: float

    @property
    def size(self) -> int:
        return self.hi - self.lo + 1

    def display_number(self, number: int) -> str:
        return str(number)


@dataclass(frozen=True)
class Procedure:
    """手続: one procedure, served at a counter whose skills include it or its band."""

    id: str
    label: Label
    band: str
    department: str
    handling_min: float
    bring: tuple[Label, ...] = ()
    simple: bool = False
    available_from: dt.date | None = None
    sensitive: bool = False
    """Tells something private (a death, welfare, a divorce): not shown on the status page once done."""


class QuestionType(StrEnum):
    HOUSEHOLD = "household"
    BOOL = "bool"
    CHOICE = "choice"


@dataclass(frozen=True)
class Option:
    id: str
    label: Label


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    label: Label
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Rule:
    """Adds ``procedure`` to a plan when every condition given holds.

    ``member_age``: some household member's age lies in [lo, hi].
    ``answer_in``: each named answer takes one of the listed values (bool or option id).
    """

    procedure: str
    member_age: tuple[int, int] | None = None
    answer_in: Mapping[str, tuple[bool | str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LifeEvent:
    """ライフイベント: a reason for a visit that brings several procedures."""

    id: str
    label: Label
    band: str
    questions: tuple[str, ...]
    always: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    available_from: dt.date | None = None


@dataclass(frozen=True)
class Catalog:
    procedures: Mapping[str, Procedure]
    questions: Mapping[str, Question]
    life_events: Mapping[str, LifeEvent]
    departments: Mapping[str, Label]

    def plan_order(self, procedure_ids: set[str]) -> list[str]:
        """Procedures in catalog order, which is the order they are served in."""
        return [pid for pid in self.procedures if pid in procedure_ids]
