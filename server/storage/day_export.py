"""A service day's visits as plain rows, for replaying the day in the simulator (`madoguchi replay`).

Read-only, from the tickets and steps tables: when each visit took its ticket, its band and life
event, whether a card was read, whether it had a priority flag, when it was first called, how it
ended, and each step's procedure, counter and start and end. No personal data: the tickets table
holds none, and card data is not read.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StepRow:
    procedure: str
    state: str
    counter_id: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class VisitRow:
    ticket_id: str
    band: str
    life_event: str | None
    issued_at: dt.datetime
    first_called_at: dt.datetime | None
    status: str
    has_card: bool
    priority: bool
    steps: tuple[StepRow, ...]


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def read_day(database: Path, site: str, day: dt.date) -> list[VisitRow]:
    """The visits of ``site`` on ``day`` in issue order; the database is opened read-only."""
    if not database.exists():
        raise FileNotFoundError(database)
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tickets = conn.execute(
            "SELECT id, band, life_event, issued_at, first_called_at, status, has_card, priority FROM tickets "
            "WHERE site = ? AND service_day = ? ORDER BY issued_at, id", (site, day.isoformat())).fetchall()
        steps: dict[str, list[StepRow]] = {}
        for ticket_id, procedure, state, counter_id, started, finished in conn.execute(
                "SELECT s.ticket_id, s.procedure, s.state, s.counter_id, s.started_at, s.finished_at FROM steps s "
                "JOIN tickets t ON t.id = s.ticket_id WHERE t.site = ? AND t.service_day = ? "
                "ORDER BY s.ticket_id, s.idx", (site, day.isoformat())):
            steps.setdefault(ticket_id, []).append(StepRow(procedure, state, counter_id, _time(started),
                                                           _time(finished)))
    finally:
        conn.close()
    rows = []
    for ticket_id, band, life_event, issued, first_called, status, has_card, priority in tickets:
        issued_at = _time(issued)
        assert issued_at is not None
        rows.append(VisitRow(ticket_id, band, life_event, issued_at, _time(first_called), status, bool(has_card),
                             priority not in (None, "", "[]"), tuple(steps.get(ticket_id, ()))))
    return rows
