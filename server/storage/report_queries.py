"""The SQL behind reports and exports: plain rows for a site and a range of service days.

Run on a read-only connection of their own (``database.connect_read_only``), never the office's.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterator


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> list[sqlite3.Row]:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()


def visit_rows(conn: sqlite3.Connection, site: str, first: dt.date,
               last: dt.date) -> tuple[list[sqlite3.Row], dict[str, list[sqlite3.Row]]]:
    """The tickets issued on those days, in issue order, and each ticket's steps in plan order."""
    days = (site, first.isoformat(), last.isoformat())
    tickets = _rows(conn, "SELECT * FROM tickets WHERE site = ? AND service_day BETWEEN ? AND ? "
                          "ORDER BY issued_at, rowid", days)
    steps: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for row in _rows(conn, "SELECT s.* FROM steps s JOIN tickets t ON t.id = s.ticket_id "
                           "WHERE t.site = ? AND t.service_day BETWEEN ? AND ? ORDER BY s.ticket_id, s.idx", days):
        steps[row["ticket_id"]].append(row)
    return tickets, steps


def handled_steps(conn: sqlite3.Connection, site: str, first: dt.date,
                  last: dt.date) -> Iterator[tuple[str, str, str]]:
    """(procedure, started_at, finished_at) of every step that was started and finished."""
    yield from conn.execute(
        "SELECT s.procedure, s.started_at, s.finished_at FROM steps s JOIN tickets t ON t.id = s.ticket_id "
        "WHERE t.site = ? AND t.service_day BETWEEN ? AND ? AND s.started_at IS NOT NULL "
        "AND s.finished_at IS NOT NULL", (site, first.isoformat(), last.isoformat()))


def issue_estimates(conn: sqlite3.Connection, site: str, first: dt.date,
                    last: dt.date) -> Iterator[tuple[float, float, float, str, str]]:
    """(minutes, low, high, issued_at, first_called_at) of each estimate given at issue to a visit later called."""
    yield from conn.execute(
        "SELECT e.minutes, e.low, e.high, t.issued_at, t.first_called_at FROM estimates e "
        "JOIN tickets t ON t.id = e.ticket_id WHERE e.kind = 'ticket' AND t.site = ? "
        "AND t.service_day BETWEEN ? AND ? AND t.first_called_at IS NOT NULL",
        (site, first.isoformat(), last.isoformat()))
