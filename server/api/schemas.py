"""Request and response models of the REST API (DESIGN §5). Field names are the contract.

Every request field is typed and bounded (lengths, list sizes, ranges): bad input is a 422 that
names the field, never a 500, and no request can make the server do unbounded work.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.guidance import MAX_AGE, MAX_MEMBERS, Relation
from madoguchi.server.core.ticket import Outcome, Priority
from madoguchi.server.storage.feedback import MAX_COMMENT

MAX_PROCEDURES = 20
MAX_ANSWERS = 40
MAX_SKILLS = 50
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)

# Ids of catalog entries (life events, procedures, questions, options, counters, tickets). The
# constraint also makes pydantic check the text is real Unicode: a lone surrogate is a 422.
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Language = Annotated[str, StringConstraints(min_length=2, max_length=16)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardIn(In):
    """The four basic items read from the My Number card, to pre-fill forms (never logged)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    address: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    birth_date: dt.date = Field(ge=EARLIEST_BIRTH_DATE, description="From 1900-01-01 to today")
    sex: Literal["1", "2", "9"] = Field(description="1 male, 2 female, 9 not applicable (as on the card)")

    def __repr__(self) -> str:  # keep personal data out of tracebacks and debug logs
        return "CardIn(<redacted>)"

    __str__ = __repr__


class Member(In):
    """One member of the household."""

    age: int = Field(ge=0, le=MAX_AGE)
    relation: Relation = Relation.OTHER


def _answer_value(value: object) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and 1 <= len(value) <= 64:
        if not _encodable(value):
            raise PydanticCustomError("string_unicode", "not valid text")
        return value
    raise PydanticCustomError("answer_value", "true, false or an option id")


AnswerValue = Annotated[bool | str, PlainValidator(_answer_value, json_schema_input_type=bool | Id)]


class Answers(BaseModel):
    """The household and one answer per question of the life event (bool, or the id of an option)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "household": [{"age": 40, "relation": "self"}, {"age": 8, "relation": "child"},
                      {"age": 70, "relation": "parent"}],
        "kokuho": True, "dog": False,
    }]})
    __pydantic_extra__: dict[str, AnswerValue] = Field(init=False)  # type: ignore[assignment]

    household: list[Member] = Field(default=[], max_length=MAX_MEMBERS)

    @model_validator(mode="before")
    @classmethod
    def _bounded_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if len(data) > MAX_ANSWERS:
                raise PydanticCustomError("too_many_answers", "too many answers", {"max_length": MAX_ANSWERS})
            for key in data:
                if not isinstance(key, str) or not 1 <= len(key) <= 64 or not _encodable(key):
                    raise PydanticCustomError("answer_key", "not a question id")
        return data

    def raw(self) -> dict[str, object]:
        """As the core reads them: ``household`` (when given) plus question id → value."""
        return self.model_dump(mode="json", exclude_unset=True)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class TicketIn(In):
    life_event: Id | None = None
    procedures: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_PROCEDURES)
    answers: Answers = Answers()
    language: Language = "ja"
    priority: list[Priority] = Field(default=[], max_length=len(Priority))
    card: CardIn | None = None

class GuidanceIn(In):
    life_event: Id
    answers: Answers = Answers()
    language: Language = "ja"


class FinishIn(In):
    outcome: Outcome = Outcome.DONE
    next_procedure: Id | None = Field(None, description="Make this procedure the visit's next step "
                                      "(moved up in the plan, or added to it)")
    to_counter: Id | None = Field(None, description="Send the next step to this counter: called there now "
                                  "if it is free, else it waits for that counter only")


class CallIn(In):
    ticket_id: Id
    reason: Annotated[str, StringConstraints(max_length=200)]


class CounterPatch(In):
    state: CounterState | None = None
    skills: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_SKILLS,
                                    description="At least one procedure or band id")


class PriorityPatch(In):
    priority: list[Priority] = Field(max_length=len(Priority))


class FeedbackIn(In):
    """Strict: a rating is the integer 1–5 (not "5", 5.0 or true), a comment is text."""

    rating: int = Field(ge=1, le=5, strict=True)
    comment: Annotated[str, StringConstraints(max_length=MAX_COMMENT, strict=True)] | None = None


class Estimate(BaseModel):
    minutes: int
    low: int
    high: int


class PlanStep(BaseModel):
    procedure: str
    label: str
    department: str
    state: str


class TicketOut(BaseModel):
    id: str
    number: int
    display_number: str
    band: str
    status: str
    language: str
    position: int
    estimate: Estimate
    plan: list[PlanStep]
    status_url: str
    issued_at: dt.datetime


class GuidanceOut(BaseModel):
    plan: list[PlanStep]
    band: str


class Card(BaseModel):
    name: str
    address: str
    birth_date: dt.date
    sex: str


class CardRead(BaseModel):
    """``GET /counters/{id}/card``: the card data of the visit at that counter (audit-logged)."""

    ticket_id: str
    display_number: str
    card: Card


class StaffTicket(BaseModel):
    id: str
    number: int
    display_number: str
    band: str
    status: str
    language: str
    life_event: str | None
    priority: list[str]
    plan: list[PlanStep]
    current_step: int
    issued_at: dt.datetime
    called_at: dt.datetime | None
    first_called_at: dt.datetime | None
    counter: str | None
    recalls: int
    position: int
    has_card: bool


class CounterOut(BaseModel):
    id: str
    label: dict[str, str]
    department: str
    state: str
    skills: list[str]
    serving: str | None
    ticket_id: str | None


class CounterAction(BaseModel):
    ticket: StaffTicket | None
    counter: CounterOut


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Suggestion(BaseModel):
    id: str
    counter: str
    from_band: str
    to_band: str
    new_skills: list[str]
    before: dict[str, Estimate]
    after: dict[str, Estimate]


class PublicTicket(BaseModel):
    number: int
    display_number: str
    band: str
    band_label: str
    status: str
    position: int
    estimate: Estimate | None
    counter: str | None
    counter_label: str | None
    plan: list[PlanStep]
    language: str
