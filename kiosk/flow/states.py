"""Screens, events and effects of the kiosk flow (pure data, no behaviour)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .household import AgeGroup


class State(enum.Enum):
    STARTING = "starting"  # catalog not loaded yet
    ATTRACT = "attract"
    LANGUAGE = "language"
    PURPOSE = "purpose"  # what brings you here: moving, bereavement, a simple procedure
    MOVING = "moving"  # 転入 / 転居 / 転出
    SIMPLE = "simple"  # one simple procedure (住民票…)
    HOUSEHOLD_COUNT = "household_count"
    HOUSEHOLD_AGE = "household_age"  # one member at a time
    QUESTION = "question"  # one yes/no or choice question at a time
    PLAN_LOADING = "plan_loading"
    PLAN = "plan"  # the visit plan to confirm
    CARD_OFFER = "card_offer"
    CARD_INSERT = "card_insert"
    CARD_CHECKING = "card_checking"
    PIN = "pin"
    PIN_LAST_TRY = "pin_last_try"  # one try left: warned, nothing sent until confirmed
    CARD_READING = "card_reading"
    CARD_CONFIRM = "card_confirm"  # the four items shown back
    CARD_ERROR = "card_error"
    CARD_BLOCKED = "card_blocked"
    ISSUING = "issuing"
    ISSUE_RETRYING = "issue_retrying"  # server unreachable: retried with the same key
    ISSUE_REFUSED = "issue_refused"
    PRINTING = "printing"
    TICKET = "ticket"  # take your ticket (or show this screen at the counter)
    STAFF_PIN = "staff_pin"
    EXITING = "exiting"


# While the kiosk is issuing or printing, nothing may interrupt it: the ticket is issued once.
BUSY = frozenset({State.ISSUING, State.ISSUE_RETRYING, State.PRINTING, State.STARTING, State.EXITING})
# States where the card reader holds (or is about to hold) personal data or a PIN.
CARD_STATES = frozenset({State.CARD_INSERT, State.CARD_CHECKING, State.PIN, State.PIN_LAST_TRY,
                         State.CARD_READING, State.CARD_CONFIRM, State.CARD_ERROR, State.CARD_BLOCKED})


class CardProblem(enum.Enum):
    """Card failures the resident is told about in plain words."""

    NOT_MY_NUMBER = "not_my_number"
    WRONG_PIN = "wrong_pin"
    REMOVED = "removed"
    READER_BROKEN = "reader_broken"
    NO_CARD = "no_card"


class Purpose(enum.Enum):
    MOVING = "moving"
    SIMPLE = "simple"


# ---- events: what the resident touched ---------------------------------------------------------

@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class Touch(Event):
    """Any touch on the attract screen."""


@dataclass(frozen=True)
class ChooseLanguage(Event):
    language: str


@dataclass(frozen=True)
class ChoosePurpose(Event):
    """A purpose group (moving, simple) or a life event shown on the purpose screen itself."""

    purpose: Purpose | None = None
    life_event: str | None = None


@dataclass(frozen=True)
class ChooseLifeEvent(Event):
    life_event: str


@dataclass(frozen=True)
class ChooseProcedure(Event):
    procedure: str


@dataclass(frozen=True)
class HouseholdCount(Event):
    count: int


@dataclass(frozen=True)
class ChooseAgeGroup(Event):
    group: AgeGroup


@dataclass(frozen=True)
class AnswerQuestion(Event):
    value: bool | str


@dataclass(frozen=True)
class ConfirmPlan(Event):
    pass


@dataclass(frozen=True)
class UseCard(Event):
    pass


@dataclass(frozen=True)
class SkipCard(Event):
    pass


@dataclass(frozen=True)
class PinDigit(Event):
    digit: str

    def __repr__(self) -> str:
        return "PinDigit(*)"


@dataclass(frozen=True)
class PinErase(Event):
    pass


@dataclass(frozen=True)
class PinSubmit(Event):
    pass


@dataclass(frozen=True)
class ConfirmLastTry(Event):
    pass


@dataclass(frozen=True)
class ConfirmCard(Event):
    pass


@dataclass(frozen=True)
class RefuseCard(Event):
    pass


@dataclass(frozen=True)
class RetryCard(Event):
    pass


@dataclass(frozen=True)
class Done(Event):
    pass


@dataclass(frozen=True)
class Back(Event):
    pass


@dataclass(frozen=True)
class IdleTimeout(Event):
    pass


@dataclass(frozen=True)
class CallStaff(Event):
    pass


@dataclass(frozen=True)
class ToggleLargeText(Event):
    pass


@dataclass(frozen=True)
class ToggleContrast(Event):
    pass


@dataclass(frozen=True)
class OpenStaff(Event):
    pass


@dataclass(frozen=True)
class StaffPinSubmit(Event):
    pin: str

    def __repr__(self) -> str:
        return "StaffPinSubmit(*)"


# ---- events: what a device or the server answered ---------------------------------------------

@dataclass(frozen=True)
class CatalogLoaded(Event):
    catalog: object  # a FlowCatalog; typed loosely here to keep this module free of machine.py


@dataclass(frozen=True)
class ServerUnreachable(Event):
    """The catalog, plan or ticket request got no answer (connection refused, timeout, 5xx)."""


@dataclass(frozen=True)
class PlanReady(Event):
    plan: object


@dataclass(frozen=True)
class RequestRefused(Event):
    """The server answered a 4xx: ``code`` is its stable problem code."""

    code: str


@dataclass(frozen=True)
class RetryDue(Event):
    pass


@dataclass(frozen=True)
class CardInserted(Event):
    pass


@dataclass(frozen=True)
class CardChecked(Event):
    tries_left: int


@dataclass(frozen=True)
class CardFailed(Event):
    problem: CardProblem
    tries_left: int | None = None


@dataclass(frozen=True)
class CardBlocked(Event):
    pass


@dataclass(frozen=True)
class CardRead(Event):
    data: object = field(repr=False)  # hardware BasicFour; never printed


@dataclass(frozen=True)
class TicketIssued(Event):
    ticket: object


@dataclass(frozen=True)
class Printed(Event):
    pass


@dataclass(frozen=True)
class PrintFailed(Event):
    status: str  # PrinterStatus value: paper_end, cover_open, offline, no_answer


# ---- effects: what the app must do ---------------------------------------------------------------

@dataclass(frozen=True)
class Effect:
    pass


@dataclass(frozen=True)
class LoadCatalog(Effect):
    pass


@dataclass(frozen=True)
class RequestPlan(Effect):
    life_event: str
    answers: dict[str, object]
    language: str


@dataclass(frozen=True)
class WaitForCard(Effect):
    pass


@dataclass(frozen=True)
class CancelCard(Effect):
    """Stop waiting for a card and drop anything read from it."""


@dataclass(frozen=True)
class CheckCard(Effect):
    """Tell the card type and read the PIN tries left, without spending one."""


@dataclass(frozen=True)
class ReadCard(Effect):
    pin: str = field(repr=False)
    confirm_last_try: bool = False


@dataclass(frozen=True)
class IssueTicket(Effect):
    body: dict[str, object] = field(repr=False)  # may hold card data
    idempotency_key: str = ""


@dataclass(frozen=True)
class ScheduleRetry(Effect):
    delay_s: float


@dataclass(frozen=True)
class PrintTicket(Effect):
    ticket: object
    language: str


@dataclass(frozen=True)
class ReportStatus(Effect):
    """Tell staff (device status): a resident asks for help, or the printer's state changed."""

    call_staff: bool | None = None
    printer: str | None = None


@dataclass(frozen=True)
class Exit(Effect):
    pass
