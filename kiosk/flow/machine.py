"""The kiosk flow: one ``Flow`` object per kiosk, fed events, answering with effects.

Transitions live in one table, ``(state, event type) -> handler``; an event a state does not list is
ignored, which is also how a late answer to an abandoned request (the resident went back) is dropped.
Back returns to the previous screen on every screen that has one. A reset (idle timeout, done) goes
back to the attract screen and drops every answer, the PIN and any card data: the flow holds its only
references, so nothing read from a card outlives the visit in the kiosk's memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from . import states as s
from .household import MAX_MEMBERS, AgeGroup, household_answer, is_relevant
from .states import BUSY, CARD_STATES, State

log = logging.getLogger(__name__)

MOVING_EVENTS = ("tennyu", "tenkyo", "tenshutsu")
PIN_LENGTH = 4
STAFF_PIN_ATTEMPTS = 3
RETRY_DELAYS_S = (1.0, 2.0, 3.0, 5.0)

IDLE_TIMEOUT_S = 90.0
IDLE_TIMEOUT_TICKET_S = 25.0
IDLE_TIMEOUT_TICKET_NOT_PRINTED_S = 180.0  # the resident shows this screen at the counter


@dataclass(frozen=True)
class QuestionInfo:
    id: str
    type: str  # "household" | "bool" | "choice"
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class LifeEventInfo:
    id: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class FlowCatalog:
    """What the flow needs to know of the server's catalog (ids only; labels stay with the app)."""

    languages: tuple[str, ...]
    life_events: tuple[LifeEventInfo, ...]
    questions: dict[str, QuestionInfo]
    simple_procedures: tuple[str, ...]

    def life_event(self, life_event: str) -> LifeEventInfo | None:
        return next((e for e in self.life_events if e.id == life_event), None)

    @property
    def moving(self) -> tuple[str, ...]:
        """The moving life events (転入, 転居, 転出) behind the one 引越し button, in that order."""
        offered = {e.id for e in self.life_events}
        return tuple(e for e in MOVING_EVENTS if e in offered)

    @property
    def other_life_events(self) -> tuple[str, ...]:
        """Life events with a button of their own on the purpose screen (おくやみ…)."""
        return tuple(e.id for e in self.life_events if e.id not in MOVING_EVENTS)


@dataclass
class Visit:
    """Everything the resident chose in one session; dropped whole on reset."""

    language: str = "ja"
    life_event: str | None = None
    procedure: str | None = None
    household_count: int = 0
    groups: list[AgeGroup] = field(default_factory=list)
    asked_household: bool = False
    question_index: int = 0
    answers: dict[str, object] = field(default_factory=dict)
    plan: object | None = None
    pin: str = field(default="", repr=False)
    tries_left: int | None = None
    card: dict[str, str] | None = field(default=None, repr=False)
    card_problem: s.CardProblem | None = None
    wrong_pin: bool = False
    idempotency_key: str | None = None
    ticket: object | None = None
    printed: bool | None = None
    printer_status: str | None = None
    refused_code: str | None = None
    server_down: bool = False
    recovered: bool = False
    retries: int = 0
    large_text: bool = False
    high_contrast: bool = False
    staff_called: bool = False
    staff_pin_wrong: int = 0


Handler = Callable[["Flow", s.Event], list[s.Effect]]


class Flow:
    def __init__(self, new_key: Callable[[], str], staff_pin_ok: Callable[[str], bool],
                 default_language: str = "ja") -> None:
        self._new_key = new_key
        self._staff_pin_ok = staff_pin_ok
        self.default_language = default_language
        self.state = State.STARTING
        self.catalog: FlowCatalog | None = None
        self.visit = Visit(language=default_language)
        self._history: list[tuple[State, int]] = []

    # -- driving ------------------------------------------------------------------------------

    def start(self) -> list[s.Effect]:
        """The first effects: load the catalog."""
        return [s.LoadCatalog()]

    def handle(self, event: s.Event) -> list[s.Effect]:
        """Applies one event; returns what the app must do. Events the state does not take are ignored."""
        handler = _TABLE.get((self.state, type(event))) or _ANY_STATE.get(type(event))
        if handler is None:
            log.debug("kiosk flow: %s ignored in %s", type(event).__name__, self.state.value)
            return []
        before = self.state
        effects = handler(self, event)
        if self.state is not before:
            log.debug("kiosk flow: %s --%s--> %s", before.value, type(event).__name__, self.state.value)
        return effects

    def idle_timeout_s(self) -> float | None:
        """How long this screen may stay untouched before the flow resets (None: never)."""
        if self.state in BUSY or self.state is State.ATTRACT:
            return None
        if self.state is State.TICKET:
            return IDLE_TIMEOUT_TICKET_S if self.visit.printed else IDLE_TIMEOUT_TICKET_NOT_PRINTED_S
        return IDLE_TIMEOUT_S

    @property
    def can_go_back(self) -> bool:
        return (self.state, s.Back) in _TABLE

    @property
    def questions(self) -> tuple[str, ...]:
        """The question ids of the chosen life event, in the catalog's order."""
        info = self.catalog.life_event(self.visit.life_event) if self.catalog and self.visit.life_event else None
        return info.questions if info else ()

    @property
    def current_question(self) -> QuestionInfo | None:
        if self.state is not State.QUESTION or self.catalog is None:
            return None
        return self.catalog.questions.get(self.questions[self.visit.question_index])

    @property
    def current_member(self) -> int:
        """0-based index of the household member whose age group is asked."""
        return len(self.visit.groups)

    def issue_body(self) -> dict[str, object]:
        v = self.visit
        return {
            "life_event": v.life_event, "procedures": [v.procedure] if v.procedure else None,
            "answers": dict(v.answers), "language": v.language, "priority": [], "card": v.card,
        }

    # -- helpers ------------------------------------------------------------------------------

    def _go(self, state: State, position: int = 0, *, remember: bool = True) -> None:
        if remember:
            self._history.append((self.state, self._position()))
        self.state = state
        self._set_position(position)

    def _position(self) -> int:
        if self.state is State.QUESTION:
            return self.visit.question_index
        if self.state is State.HOUSEHOLD_AGE:
            return max(0, len(self.visit.groups) - 1)  # back re-asks the last member answered
        return 0

    def _set_position(self, position: int) -> None:
        if self.state is State.QUESTION:
            self.visit.question_index = position
        elif self.state is State.HOUSEHOLD_AGE:
            del self.visit.groups[position:]

    def _reset(self) -> list[s.Effect]:
        effects: list[s.Effect] = []
        if self.state in CARD_STATES:
            effects.append(s.CancelCard())
        if self.visit.staff_called:
            effects.append(s.ReportStatus(call_staff=False))
        self.visit = Visit(language=self.default_language)
        self._history.clear()
        self.state = State.ATTRACT
        return effects

    def _ask_from(self, index: int) -> list[s.Effect]:
        """Next screen from question ``index`` on: a question, the household, or the plan."""
        assert self.catalog is not None
        questions = self.questions
        while index < len(questions):
            info = self.catalog.questions.get(questions[index])
            if info is None:
                index += 1
                continue
            if info.type == "household":
                self.visit.question_index = index
                self.visit.asked_household = True
                self._go(State.HOUSEHOLD_COUNT)
                return []
            if is_relevant(info.id, self.visit.groups, self.visit.asked_household):
                self._go(State.QUESTION, index)
                return []
            self.visit.answers.pop(info.id, None)
            index += 1
        return self._request_plan()

    def _request_plan(self) -> list[s.Effect]:
        v = self.visit
        assert v.life_event is not None
        self._go(State.PLAN_LOADING)
        v.server_down = False
        v.retries = 0
        return [s.RequestPlan(v.life_event, self._answers(), v.language)]

    def _answers(self) -> dict[str, object]:
        answers = dict(self.visit.answers)
        if self.visit.asked_household:
            answers["household"] = household_answer(self.visit.groups)
        return answers

    def _retry_delay(self) -> float:
        delay = RETRY_DELAYS_S[min(self.visit.retries, len(RETRY_DELAYS_S) - 1)]
        self.visit.retries += 1
        return delay

    def _issue(self) -> list[s.Effect]:
        v = self.visit
        v.answers = self._answers()
        if v.idempotency_key is None:
            v.idempotency_key = self._new_key()
        self._go(State.ISSUING, remember=False)
        return [s.IssueTicket(self.issue_body(), v.idempotency_key)]

    def _drop_card(self) -> None:
        self.visit.card = None
        self.visit.pin = ""
        self.visit.tries_left = None
        self.visit.card_problem = None
        self.visit.wrong_pin = False

    # -- handlers -----------------------------------------------------------------------------

    def _catalog_loaded(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.CatalogLoaded) and isinstance(event.catalog, FlowCatalog)
        self.catalog = event.catalog
        self.state = State.ATTRACT
        self.visit.retries = 0
        return []

    def _starting_unreachable(self, event: s.Event) -> list[s.Effect]:
        self.visit.server_down = True
        return [s.ScheduleRetry(self._retry_delay())]

    def _starting_retry(self, event: s.Event) -> list[s.Effect]:
        return [s.LoadCatalog()]

    def _touch(self, event: s.Event) -> list[s.Effect]:
        self._go(State.LANGUAGE)
        return []

    def _language(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.ChooseLanguage) and self.catalog is not None
        if event.language not in self.catalog.languages:
            return []
        self.visit.language = event.language
        self._go(State.PURPOSE)
        return []

    def _purpose(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.ChoosePurpose) and self.catalog is not None
        if event.purpose is s.Purpose.MOVING and self.catalog.moving:
            self._go(State.MOVING)
        elif event.purpose is s.Purpose.SIMPLE and self.catalog.simple_procedures:
            self._go(State.SIMPLE)
        elif event.life_event in self.catalog.other_life_events:
            return self._start_life_event(event.life_event)
        return []

    def _moving(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.ChooseLifeEvent) and self.catalog is not None
        if event.life_event not in self.catalog.moving:
            return []
        return self._start_life_event(event.life_event)

    def _start_life_event(self, life_event: str | None) -> list[s.Effect]:
        v = self.visit
        v.life_event, v.procedure = life_event, None
        v.answers, v.groups, v.asked_household, v.household_count = {}, [], False, 0
        return self._ask_from(0)

    def _simple(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.ChooseProcedure) and self.catalog is not None
        if event.procedure not in self.catalog.simple_procedures:
            return []
        v = self.visit
        v.procedure, v.life_event, v.answers, v.plan = event.procedure, None, {}, None
        self._go(State.PLAN)
        return []

    def _household_count(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.HouseholdCount)
        if not 1 <= event.count <= MAX_MEMBERS:
            return []
        self.visit.household_count = event.count
        self.visit.groups = []
        self._go(State.HOUSEHOLD_AGE, 0)
        return []

    def _age_group(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.ChooseAgeGroup)
        v = self.visit
        v.groups.append(event.group)
        if len(v.groups) < v.household_count:
            self._history.append((State.HOUSEHOLD_AGE, len(v.groups) - 1))
            return []
        return self._ask_from(v.question_index + 1)

    def _answer(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.AnswerQuestion)
        info = self.current_question
        if info is None:
            return []
        valid = isinstance(event.value, bool) if info.type == "bool" else event.value in info.options
        if not valid:
            return []
        self.visit.answers[info.id] = event.value
        return self._ask_from(self.visit.question_index + 1)

    def _plan_ready(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.PlanReady)
        self.visit.plan = event.plan
        self.visit.server_down = False
        self.state = State.PLAN  # PLAN_LOADING is not a screen to come back to
        return []

    def _plan_unreachable(self, event: s.Event) -> list[s.Effect]:
        self.visit.server_down = True
        return [s.ScheduleRetry(self._retry_delay())]

    def _plan_retry(self, event: s.Event) -> list[s.Effect]:
        v = self.visit
        assert v.life_event is not None
        return [s.RequestPlan(v.life_event, self._answers(), v.language)]

    def _refused(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.RequestRefused)
        self.visit.refused_code = event.code
        self.visit.server_down = False
        self._drop_card()
        self._go(State.ISSUE_REFUSED, remember=False)
        return []

    def _confirm_plan(self, event: s.Event) -> list[s.Effect]:
        self._go(State.CARD_OFFER)
        return []

    def _use_card(self, event: s.Event) -> list[s.Effect]:
        self._drop_card()
        self._go(State.CARD_INSERT)
        return [s.WaitForCard()]

    def _skip_card(self, event: s.Event) -> list[s.Effect]:
        effects: list[s.Effect] = [s.CancelCard()] if self.state in CARD_STATES else []
        self._drop_card()
        return effects + self._issue()

    def _card_inserted(self, event: s.Event) -> list[s.Effect]:
        self._go(State.CARD_CHECKING, remember=False)
        return [s.CheckCard()]

    def _card_checked(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.CardChecked)
        if event.tries_left <= 0:
            return self._card_blocked(event)
        self.visit.tries_left = event.tries_left
        self.visit.pin = ""
        self._go(State.PIN, remember=False)
        return []

    def _card_failed(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.CardFailed)
        v = self.visit
        v.pin = ""
        if event.problem is s.CardProblem.WRONG_PIN and event.tries_left is not None:
            v.tries_left, v.wrong_pin = event.tries_left, True
            self.state = State.PIN
            return []
        if event.problem is s.CardProblem.NO_CARD and self.state is State.CARD_INSERT:
            self._drop_card()
            return self._card_back(event)
        v.card_problem = event.problem
        v.card = None
        self.state = State.CARD_ERROR
        return []

    def _card_blocked(self, event: s.Event) -> list[s.Effect]:
        self.visit.pin, self.visit.card, self.visit.tries_left = "", None, 0
        self.state = State.CARD_BLOCKED
        return []

    def _pin_digit(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.PinDigit)
        if len(event.digit) == 1 and event.digit.isdigit() and event.digit.isascii() \
                and len(self.visit.pin) < PIN_LENGTH:
            self.visit.pin += event.digit
            self.visit.wrong_pin = False
        return []

    def _pin_erase(self, event: s.Event) -> list[s.Effect]:
        self.visit.pin = self.visit.pin[:-1]
        return []

    def _pin_submit(self, event: s.Event) -> list[s.Effect]:
        v = self.visit
        if len(v.pin) != PIN_LENGTH:
            return []
        if v.tries_left == 1:
            self.state = State.PIN_LAST_TRY  # nothing is sent before the resident confirms
            return []
        return self._send_pin(confirm_last_try=False)

    def _send_pin(self, *, confirm_last_try: bool) -> list[s.Effect]:
        pin, self.visit.pin = self.visit.pin, ""
        self.state = State.CARD_READING
        return [s.ReadCard(pin, confirm_last_try=confirm_last_try)]

    def _confirm_last_try(self, event: s.Event) -> list[s.Effect]:
        return self._send_pin(confirm_last_try=True)

    def _last_try_back(self, event: s.Event) -> list[s.Effect]:
        self.visit.pin = ""
        self.state = State.PIN
        return []

    def _card_read(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.CardRead) and isinstance(event.data, dict)
        self.visit.card = {k: str(v) for k, v in event.data.items()}
        self.visit.tries_left = None
        self.state = State.CARD_CONFIRM
        return []

    def _confirm_card(self, event: s.Event) -> list[s.Effect]:
        return self._issue()

    def _refuse_card(self, event: s.Event) -> list[s.Effect]:
        self._drop_card()
        return [s.CancelCard(), *self._issue()]

    def _retry_card(self, event: s.Event) -> list[s.Effect]:
        self._drop_card()
        self.state = State.CARD_INSERT
        return [s.CancelCard(), s.WaitForCard()]

    def _card_back(self, event: s.Event) -> list[s.Effect]:
        """Back from any card screen: stop the reader, forget the card, offer it again."""
        self._drop_card()
        while self._history and self._history[-1][0] is not State.CARD_OFFER:
            self._history.pop()
        if self._history:
            self._history.pop()
        self.state = State.CARD_OFFER
        return [s.CancelCard()]

    def _issued(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.TicketIssued)
        v = self.visit
        v.ticket = event.ticket
        v.recovered = v.server_down or v.retries > 0
        v.server_down = False
        self._drop_card()  # it travelled with the ticket; the kiosk keeps nothing
        self.state = State.PRINTING
        self._history.clear()
        return [s.PrintTicket(event.ticket, v.language)]

    def _issue_unreachable(self, event: s.Event) -> list[s.Effect]:
        self.visit.server_down = True
        self.state = State.ISSUE_RETRYING
        return [s.ScheduleRetry(self._retry_delay())]

    def _issue_retry(self, event: s.Event) -> list[s.Effect]:
        v = self.visit
        assert v.idempotency_key is not None
        self.state = State.ISSUING
        return [s.IssueTicket(self.issue_body(), v.idempotency_key)]

    def _printed(self, event: s.Event) -> list[s.Effect]:
        self.visit.printed, self.visit.printer_status = True, "online"
        self.state = State.TICKET
        return [s.ReportStatus(printer="online")]

    def _print_failed(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.PrintFailed)
        self.visit.printed, self.visit.printer_status = False, event.status
        self.state = State.TICKET
        return [s.ReportStatus(printer=event.status)]

    def _done(self, event: s.Event) -> list[s.Effect]:
        return self._reset()

    def _idle(self, event: s.Event) -> list[s.Effect]:
        if self.state in BUSY or self.state is State.ATTRACT:
            return []
        return self._reset()

    def _back(self, event: s.Event) -> list[s.Effect]:
        if not self._history:
            return self._reset()
        state, position = self._history.pop()
        if state is State.ATTRACT:
            return self._reset()
        self.state = state
        self._set_position(position)
        return []

    def _call_staff(self, event: s.Event) -> list[s.Effect]:
        if self.state in (State.STARTING, State.EXITING):
            return []
        self.visit.staff_called = True
        return [s.ReportStatus(call_staff=True)]

    def _toggle_large(self, event: s.Event) -> list[s.Effect]:
        self.visit.large_text = not self.visit.large_text
        return []

    def _toggle_contrast(self, event: s.Event) -> list[s.Effect]:
        self.visit.high_contrast = not self.visit.high_contrast
        return []

    def _open_staff(self, event: s.Event) -> list[s.Effect]:
        self.visit.staff_pin_wrong = 0
        self._go(State.STAFF_PIN)
        return []

    def _staff_pin(self, event: s.Event) -> list[s.Effect]:
        assert isinstance(event, s.StaffPinSubmit)
        if self._staff_pin_ok(event.pin):
            self.state = State.EXITING
            return [s.Exit()]
        self.visit.staff_pin_wrong += 1
        if self.visit.staff_pin_wrong >= STAFF_PIN_ATTEMPTS:
            return self._reset()
        return []


_CARD_BACK_STATES = (State.CARD_INSERT, State.PIN, State.CARD_ERROR, State.CARD_BLOCKED, State.CARD_CONFIRM)
_QUESTION_STATES = (State.HOUSEHOLD_COUNT, State.HOUSEHOLD_AGE, State.QUESTION)

_TABLE: dict[tuple[State, type[s.Event]], Handler] = {
    (State.STARTING, s.CatalogLoaded): Flow._catalog_loaded,
    (State.STARTING, s.ServerUnreachable): Flow._starting_unreachable,
    (State.STARTING, s.RetryDue): Flow._starting_retry,
    (State.ATTRACT, s.Touch): Flow._touch,
    (State.ATTRACT, s.OpenStaff): Flow._open_staff,
    (State.LANGUAGE, s.ChooseLanguage): Flow._language,
    (State.PURPOSE, s.ChoosePurpose): Flow._purpose,
    (State.MOVING, s.ChooseLifeEvent): Flow._moving,
    (State.SIMPLE, s.ChooseProcedure): Flow._simple,
    (State.HOUSEHOLD_COUNT, s.HouseholdCount): Flow._household_count,
    (State.HOUSEHOLD_AGE, s.ChooseAgeGroup): Flow._age_group,
    (State.QUESTION, s.AnswerQuestion): Flow._answer,
    (State.PLAN_LOADING, s.PlanReady): Flow._plan_ready,
    (State.PLAN_LOADING, s.ServerUnreachable): Flow._plan_unreachable,
    (State.PLAN_LOADING, s.RetryDue): Flow._plan_retry,
    (State.PLAN_LOADING, s.RequestRefused): Flow._refused,
    (State.PLAN, s.ConfirmPlan): Flow._confirm_plan,
    (State.CARD_OFFER, s.UseCard): Flow._use_card,
    (State.CARD_OFFER, s.SkipCard): Flow._skip_card,
    (State.CARD_INSERT, s.CardInserted): Flow._card_inserted,
    (State.CARD_INSERT, s.CardFailed): Flow._card_failed,
    (State.CARD_INSERT, s.SkipCard): Flow._skip_card,
    (State.CARD_CHECKING, s.CardChecked): Flow._card_checked,
    (State.CARD_CHECKING, s.CardFailed): Flow._card_failed,
    (State.CARD_CHECKING, s.CardBlocked): Flow._card_blocked,
    (State.PIN, s.PinDigit): Flow._pin_digit,
    (State.PIN, s.PinErase): Flow._pin_erase,
    (State.PIN, s.PinSubmit): Flow._pin_submit,
    (State.PIN, s.SkipCard): Flow._skip_card,
    (State.PIN_LAST_TRY, s.ConfirmLastTry): Flow._confirm_last_try,
    (State.PIN_LAST_TRY, s.Back): Flow._last_try_back,
    (State.PIN_LAST_TRY, s.SkipCard): Flow._skip_card,
    (State.CARD_READING, s.CardRead): Flow._card_read,
    (State.CARD_READING, s.CardFailed): Flow._card_failed,
    (State.CARD_READING, s.CardBlocked): Flow._card_blocked,
    (State.CARD_CONFIRM, s.ConfirmCard): Flow._confirm_card,
    (State.CARD_CONFIRM, s.RefuseCard): Flow._refuse_card,
    (State.CARD_ERROR, s.RetryCard): Flow._retry_card,
    (State.CARD_ERROR, s.SkipCard): Flow._skip_card,
    (State.CARD_BLOCKED, s.SkipCard): Flow._skip_card,
    (State.ISSUING, s.TicketIssued): Flow._issued,
    (State.ISSUING, s.ServerUnreachable): Flow._issue_unreachable,
    (State.ISSUING, s.RequestRefused): Flow._refused,
    (State.ISSUE_RETRYING, s.RetryDue): Flow._issue_retry,
    (State.PRINTING, s.Printed): Flow._printed,
    (State.PRINTING, s.PrintFailed): Flow._print_failed,
    (State.TICKET, s.Done): Flow._done,
    (State.ISSUE_REFUSED, s.Done): Flow._done,
    (State.STAFF_PIN, s.StaffPinSubmit): Flow._staff_pin,
    **{(state, s.Back): Flow._back for state in (
        State.LANGUAGE, State.PURPOSE, State.MOVING, State.SIMPLE, *_QUESTION_STATES, State.PLAN_LOADING,
        State.PLAN, State.CARD_OFFER, State.STAFF_PIN)},
    **{(state, s.Back): Flow._card_back for state in _CARD_BACK_STATES},
}

# Events every screen takes (unless the table above says otherwise for that screen).
_ANY_STATE: dict[type[s.Event], Handler] = {
    s.IdleTimeout: Flow._idle,
    s.CallStaff: Flow._call_staff,
    s.ToggleLargeText: Flow._toggle_large,
    s.ToggleContrast: Flow._toggle_contrast,
}

TRANSITIONS = _TABLE
"""The transition table, exported for tests and documentation."""
