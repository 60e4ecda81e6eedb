"""From a life event and the household's answers to the list of procedures of the visit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .catalog import Catalog, LifeEvent, QuestionType, Rule
from .errors import invalid

MAX_AGE = 130
MAX_MEMBERS = 20


class Relation(StrEnum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    OTHER = "other"


@dataclass(frozen=True)
class Member:
    age: int
    relation: Relation


@dataclass(frozen=True)
class Answers:
    """Validated answers: household members plus one value per catalog question."""

    household: tuple[Member, ...]
    values: Mapping[str, bool | str]


def available(available_from: dt.date | None, day: dt.date) -> bool:
    return available_from is None or day >= available_from


def life_event_for(catalog: Catalog, life_event_id: str, day: dt.date) -> LifeEvent:
    event = catalog.life_events.get(life_event_id)
    if event is None:
        offered = [e.id for e in catalog.life_events.values() if available(e.available_from, day)]
        raise invalid("unknown_life_event", life_event=life_event_id, life_events=offered)
    if not available(event.available_from, day):
        raise invalid("life_event_not_yet_available", life_event=life_event_id,
                      available_from=str(event.available_from))
    return event


def parse_answers(catalog: Catalog, event: LifeEvent | None, raw: Mapping[str, object]) -> Answers:
    """Check raw answers against the questions of ``event``; unknown or ill-typed answers are refused."""
    household: list[Member] = []
    values: dict[str, bool | str] = {}
    allowed = set(event.questions) if event else set()
    for key, value in raw.items():
        if key == "household":
            household = _parse_household(value)
            continue
        question = catalog.questions.get(key)
        if question is None or key not in allowed:
            raise invalid("unknown_answer", question=key, questions=[q for q in catalog.questions if q in allowed])
        if question.type is QuestionType.BOOL:
            if not isinstance(value, bool):
                raise invalid("answer_not_bool", question=key)
            values[key] = value
        elif question.type is QuestionType.CHOICE:
            if value not in {o.id for o in question.options}:
                raise invalid("answer_not_an_option", question=key, options=[o.id for o in question.options])
            assert isinstance(value, str)
            values[key] = value
        else:
            raise invalid("unknown_answer", question=key)
    return Answers(tuple(household), values)


def _parse_household(value: object) -> list[Member]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise invalid("household_not_a_list")
    if len(value) > MAX_MEMBERS:
        raise invalid("household_too_large", max=MAX_MEMBERS)
    members = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise invalid("household_member_invalid", index=index)
        age, relation = item.get("age"), item.get("relation", "other")
        if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= MAX_AGE:
            raise invalid("household_age_invalid", index=index, max=MAX_AGE)
        if relation not in {r.value for r in Relation}:
            raise invalid("household_relation_invalid", index=index,
                          relations=[r.value for r in Relation])
        members.append(Member(age, Relation(str(relation))))
    return members


def rule_holds(rule: Rule, answers: Answers) -> bool:
    if rule.member_age is not None:
        lo, hi = rule.member_age
        if not any(lo <= m.age <= hi for m in answers.household):
            return False
    return all(answers.values.get(key) in allowed for key, allowed in rule.answer_in.items())


def plan_for(catalog: Catalog, event: LifeEvent, answers: Answers, day: dt.date) -> list[str]:
    """The procedures of the visit, in serving order, without duplicates."""
    wanted = set(event.always)
    wanted.update(rule.procedure for rule in event.rules if rule_holds(rule, answers))
    wanted = {p for p in wanted if available(catalog.procedures[p].available_from, day)}
    return catalog.plan_order(wanted)
