"""窓口: a counter, the skills it serves and what it is doing now."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .catalog import Label


class CounterState(StrEnum):
    OPEN = "open"
    PAUSED = "paused"  # finishes its current visit, calls nobody new
    CLOSED = "closed"


@dataclass
class Counter:
    id: str
    label: Label
    department: str
    skills: frozenset[str]  # procedure ids and/or band ids
    state: CounterState = CounterState.CLOSED
    staff: str | None = None
    ticket_id: str | None = None

    def can_serve(self, band: str, procedure: str) -> bool:
        return band in self.skills or procedure in self.skills
