"""Request and response models of the REST API (DESIGN §5). Field names are the contract."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from madoguchi.server.core.counter import CounterState
from madoguchi.server.core.ticket import Outcome, Priority


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardIn(In):
    """The four basic items read from the My Number card, to pre-fill forms (never logged)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    address: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    birth_date: dt.date
    sex: Literal["1", "2", "9"]

    def __repr__(self) -> str:  # keep personal data out of tracebacks and debug logs
        return "CardIn(<redacted>)"

    __str__ = __repr__


class TicketIn(In):
    life_event: str | None = None
    procedures: list[str] | None = None
    answers: dict[str, Any] = {}
    language: str = "ja"
    priority: list[Priority] = []
    card: CardIn | None = None


class GuidanceIn(In):
    life_event: str
    answers: dict[str, Any] = {}
    language: str = "ja"


class FinishIn(In):
    outcome: Outcome = Outcome.DONE


class CallIn(In):
    ticket_id: str
    reason: Annotated[str, StringConstraints(max_length=200)]


class CounterPatch(In):
    state: CounterState | None = None
    skills: list[str] | None = None


class PriorityPatch(In):
    priority: list[Priority]


class FeedbackIn(In):
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=1000)] | None = None


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
    card: Card | None = None
    """Only in answers to the counter serving this visit."""


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
