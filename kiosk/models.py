"""The kiosk's own view of the server's REST contract (DESIGN §5), checked against its OpenAPI by a test.

Answers ignore fields they do not know (the contract may add some); what the kiosk sends forbids
unknown ones. Nothing here imports the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Label = dict[str, str]


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class LifeEvent(Answer):
    id: str
    label: Label
    band: str
    questions: list[str]


class Procedure(Answer):
    id: str
    label: Label
    band: str
    department: str
    simple: bool
    bring: list[Label] = []


class QuestionOption(Answer):
    id: str
    label: Label


class Question(Answer):
    id: str
    type: Literal["household", "bool", "choice"]
    label: Label
    options: list[QuestionOption] = []


class Band(Answer):
    id: str
    label: Label
    range: tuple[int, int]
    target_wait_min: int


class Catalog(Answer):
    site: str
    site_label: Label = {}
    languages: list[str]
    life_events: list[LifeEvent]
    procedures: list[Procedure]
    questions: list[Question]
    bands: list[Band]
    departments: dict[str, Label] = {}

    def procedure(self, procedure_id: str) -> Procedure | None:
        return next((p for p in self.procedures if p.id == procedure_id), None)

    def band(self, band_id: str) -> Band | None:
        return next((b for b in self.bands if b.id == band_id), None)

    def life_event(self, life_event_id: str) -> LifeEvent | None:
        return next((e for e in self.life_events if e.id == life_event_id), None)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


class PlanStep(Answer):
    procedure: str
    label: str
    department: str
    state: str


class Guidance(Answer):
    plan: list[PlanStep]
    band: str


class Estimate(Answer):
    minutes: int
    low: int
    high: int


class Ticket(Answer):
    id: str
    number: int
    display_number: str
    band: str
    position: int
    estimate: Estimate
    plan: list[PlanStep]
    status_url: str
    issued_at: dt.datetime


class StateBand(Answer):
    id: str
    waiting: int = 0
    estimate: Estimate | None = None


class OfficeState(Answer):
    """The part of ``GET /state`` the kiosk shows: each band's current wait estimate."""

    bands: list[StateBand]

    def estimate(self, band: str) -> Estimate | None:
        return next((b.estimate for b in self.bands if b.id == band), None)


class PlanView(Answer):
    """What the plan screen shows: the steps, and the wait the band has now (when the server knows)."""

    guidance: Guidance
    estimate: Estimate | None = None


class Problem(Answer):
    code: str = "unknown"
    status: int = 0
    title: str = ""
    detail: str = ""


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardData(Request):
    """The four items read from the card; repr hides them so they cannot reach a log line."""

    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=200)
    birth_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    sex: Literal["1", "2", "9"]

    def __repr__(self) -> str:
        return "CardData(<personal data hidden>)"

    __str__ = __repr__


class GuidanceRequest(Request):
    life_event: str
    answers: dict[str, object] = {}
    language: str = "ja"


class TicketRequest(Request):
    life_event: str | None = None
    procedures: list[str] | None = None
    answers: dict[str, object] = {}
    language: str = "ja"
    priority: list[Literal["wheelchair", "pregnant", "elderly", "interpreter", "infant"]] = []
    card: CardData | None = None

    def __repr__(self) -> str:
        card = "yes" if self.card else "no"
        return f"TicketRequest(life_event={self.life_event!r}, procedures={self.procedures!r}, card={card})"
