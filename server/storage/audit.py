"""The card-data audit: who read which visit's card data (``card``), its confirmed 住民異動届 shown back
(``form``) or downloaded its hand-off (``handoff``), at which counter, and when — never the data."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from madoguchi.server.storage.database import transaction


@dataclass(frozen=True)
class CardRead:
    at: dt.datetime
    username: str
    counter_id: str
    ticket_id: str
    kind: str = "card"
    """``card`` (the four items read), ``form`` (the confirmed form shown back) or ``handoff`` (downloaded)."""


def record_card_read(conn: sqlite3.Connection, read: CardRead) -> None:
    """Written (and on disk) before the data is handed out: a read that cannot be logged does not happen."""
    with transaction(conn):
        conn.execute("INSERT INTO card_reads (at, username, counter_id, ticket_id, kind) VALUES (?, ?, ?, ?, ?)",
                     (read.at.isoformat(), read.username, read.counter_id, read.ticket_id, read.kind))


def card_reads(conn: sqlite3.Connection, ticket_id: str | None = None) -> list[CardRead]:
    """The audit trail, oldest first (of one visit, or all)."""
    query = "SELECT at, username, counter_id, ticket_id, kind FROM card_reads"
    rows = (conn.execute(query + " WHERE ticket_id = ? ORDER BY id", (ticket_id,)) if ticket_id
            else conn.execute(query + " ORDER BY id"))
    return [CardRead(dt.datetime.fromisoformat(a), u, c, t, k) for a, u, c, t, k in rows]
