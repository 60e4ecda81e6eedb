"""The append-only event log: every KPI and export is computed from these rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    ISSUED = "issued"
    CALLED = "called"
    RECALLED = "recalled"
    STARTED = "started"
    STEP_FINISHED = "step_finished"
    TRANSFERRED = "transferred"  # continues at the same counter with the next step
    HELD = "held"
    NO_SHOW = "no_show"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    PRIORITY_CHANGED = "priority_changed"
    COUNTER_OPENED = "counter_opened"
    COUNTER_PAUSED = "counter_paused"
    COUNTER_CLOSED = "counter_closed"
    COUNTER_SKILLS_CHANGED = "counter_skills_changed"
    SUGGESTION_MADE = "suggestion_made"
    SUGGESTION_ACCEPTED = "suggestion_accepted"
    SUGGESTION_DISMISSED = "suggestion_dismissed"
    FEEDBACK = "feedback"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: dt.datetime
    ticket_id: str | None = None
    counter_id: str | None = None
    band: str | None = None
    number: int | None = None
    step: int | None = None
    procedure: str | None = None
    data: Mapping[str, object] = field(default_factory=dict)
