"""The visit (来庁) and its ticket: one number carries the resident through every step."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.HELD})
AT_COUNTER = frozenset({TicketStatus.CALLED, TicketStatus.SERVING})


class StepState(StrEnum):
    TODO = "todo"
    ACTIVE = "active"
    DONE = "done"
    PENDING = "pending"  # could not be completed today (documents missing…)
    REFERRED = "referred"  # sent elsewhere (another office, an appointment)
    SKIPPED = "skipped"  # the visit ended before this step


class Outcome(StrEnum):
    DONE = "done"
    PENDING = "pending"
    REFERRED = "referred"


class Priority(StrEnum):
    WHEELCHAIR = "wheelchair"
    PREGNANT = "pregnant"
    ELDERLY = "elderly"
    INTERPRETER = "interpreter"
    INFANT = "infant"


@dataclass
class Step:
    procedure: str
    state: StepState = StepState.TODO
    counter_id: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


@dataclass
class Ticket:
    id: str
    token: str
    site: str
    service_day: dt.date
    band: str
    number: int
    display_number: str
    language: str
    life_event: str | None
    steps: list[Step]
    issued_at: dt.datetime
    priority: frozenset[Priority] = frozenset()
    status: TicketStatus = TicketStatus.WAITING
    current: int = 0
    queued_at: dt.datetime | None = None  # when it last began waiting (issue or previous step end)
    counter_id: str | None = None
    called_at: dt.datetime | None = None
    first_called_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    recalls: int = 0
    has_card: bool = False
    manual: bool = False
    sent_to: str | None = None  # waiting for this counter only: a counter sent the visit's next step there
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def step(self) -> Step:
        return self.steps[self.current]

    @property
    def procedure(self) -> str:
        return self.steps[self.current].procedure

    @property
    def continuing(self) -> bool:
        """Mid-plan: at least one step already finished."""
        return self.current > 0

    def next_step_index(self) -> int | None:
        for index in range(self.current + 1, len(self.steps)):
            if self.steps[index].state is StepState.TODO:
                return index
        return None
