"""Persisting the office: every command's changes in one transaction; loading them back after a restart."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from madoguchi.server.core.counter import Counter, CounterState
from madoguchi.server.core.office import Changes, Office
from madoguchi.server.core.ticket import OPEN_STATUSES, Priority, Step, StepState, Ticket, TicketStatus
from madoguchi.server.storage.database import transaction

OPEN = tuple(s.value for s in OPEN_STATUSES)
SideWrite = Callable[[sqlite3.Connection], None]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


@dataclass
class Transaction:
    """Writes that must commit together with the office's changes (idempotency key, card data…)."""

    side_writes: list[SideWrite] = field(default_factory=list)
    idempotency_key: str | None = None
    """The key of a ticket issued by this command, remembered in memory until it is committed."""

    def add(self, write: SideWrite) -> None:
        self.side_writes.append(write)


@dataclass
class Rows:
    """One command's changes as plain rows: taken under the office lock, written later by the writer."""

    tickets: list[tuple[object, ...]]
    steps: list[tuple[object, ...]]
    counters: list[tuple[object, ...]]
    band_days: list[tuple[object, ...]]
    events: list[tuple[object, ...]]
    closed_with_card: list[tuple[str]]
    side_writes: list[SideWrite]
    idempotency_key: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.tickets or self.counters or self.band_days or self.events or self.side_writes)

    @property
    def erases_card_data(self) -> bool:
        return bool(self.closed_with_card)

    @classmethod
    def nothing(cls) -> Rows:
        return cls([], [], [], [], [], [], [])


TICKET_UPSERT = (
    "INSERT INTO tickets (id, token, site, service_day, band, number, display_number, language, life_event,"
    " priority, status, current, issued_at, queued_at, counter_id, called_at, first_called_at, finished_at,"
    " recalls, has_card, manual, sent_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET priority = excluded.priority, status = excluded.status,"
    " current = excluded.current, queued_at = excluded.queued_at, counter_id = excluded.counter_id,"
    " called_at = excluded.called_at, first_called_at = excluded.first_called_at,"
    " finished_at = excluded.finished_at, recalls = excluded.recalls, sent_to = excluded.sent_to"
)
STEP_UPSERT = (
    "INSERT INTO steps (ticket_id, idx, procedure, state, counter_id, started_at, finished_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id, idx) DO UPDATE SET procedure = excluded.procedure,"
    " state = excluded.state,"
    " counter_id = excluded.counter_id, started_at = excluded.started_at, finished_at = excluded.finished_at"
)
COUNTER_UPSERT = (
    "INSERT INTO counters (site, id, state, skills, staff, ticket_id) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (site, id) DO UPDATE SET state = excluded.state, skills = excluded.skills,"
    " staff = excluded.staff, ticket_id = excluded.ticket_id"
)
BAND_DAY_UPSERT = (
    "INSERT INTO band_days (site, band, day, last_number) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (site, band, day) DO UPDATE SET last_number = excluded.last_number"
)
EVENT_INSERT = (
    "INSERT INTO events (site, at, kind, ticket_id, counter_id, band, number, step, procedure, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def rows_of(site: str, changes: Changes, tx: Transaction | None = None) -> Rows:
    tickets = changes.tickets
    return Rows(
        tickets=[(t.id, t.token, t.site, t.service_day.isoformat(), t.band, t.number, t.display_number, t.language,
                  t.life_event, json.dumps(sorted(t.priority)), t.status.value, t.current, _iso(t.issued_at),
                  _iso(t.queued_at), t.counter_id, _iso(t.called_at), _iso(t.first_called_at),
                  _iso(t.finished_at), t.recalls, int(t.has_card), int(t.manual), t.sent_to) for t in tickets],
        steps=[(t.id, i, s.procedure, s.state.value, s.counter_id, _iso(s.started_at), _iso(s.finished_at))
               for t in tickets for i, s in enumerate(t.steps)],
        counters=[(site, c.id, c.state.value, json.dumps(sorted(c.skills)), c.staff, c.ticket_id)
                  for c in changes.counters],
        band_days=[(site, b, changes.day.isoformat(), n) for b, n in changes.last_numbers.items()]
        if changes.last_numbers and changes.day else [],
        events=[(site, e.at.isoformat(), e.kind.value, e.ticket_id, e.counter_id, e.band, e.number, e.step,
                 e.procedure, json.dumps(e.data, ensure_ascii=False, default=str)) for e in changes.events],
        closed_with_card=[(t.id,) for t in tickets if not t.is_open and t.has_card],
        side_writes=list(tx.side_writes) if tx else [],
        idempotency_key=tx.idempotency_key if tx else None,
    )


def write(conn: sqlite3.Connection, batch: Sequence[Rows]) -> int:
    """Write every command of ``batch`` in one transaction (one fsync), in order.

    Returns the sequence number of the last event in the log (a batch's events are consecutive).
    """
    with transaction(conn):
        for rows in batch:
            conn.executemany(TICKET_UPSERT, rows.tickets)
            conn.executemany(STEP_UPSERT, rows.steps)
            conn.executemany(COUNTER_UPSERT, rows.counters)
            conn.executemany(BAND_DAY_UPSERT, rows.band_days)
            conn.executemany(EVENT_INSERT, rows.events)
            for side_write in rows.side_writes:
                side_write(conn)
            # card data lives only as long as the visit
            conn.executemany("DELETE FROM card_data WHERE ticket_id = ?", rows.closed_with_card)
        return last_seq(conn)


def last_seq(conn: sqlite3.Connection) -> int:
    """Sequence number of the last event in the log (0 for an empty log)."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    return int(row[0]) if row else 0


class OfficeStore:
    """Reads and the odd write outside the office (feedback) on ``conn``; office changes go through
    ``rows_of`` and ``write`` on the writer's own connection (see service/writer.py)."""

    def __init__(self, conn: sqlite3.Connection, site: str) -> None:
        self.conn = conn
        self.site = site

    def add_feedback(self, ticket: Ticket, rating: int, comment: str | None, now: dt.datetime) -> bool:
        """Record a resident's rating once per visit; False when the visit already has one."""
        with transaction(self.conn):
            inserted = self.conn.execute(
                "INSERT INTO feedback (ticket_id, rating, comment, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ticket_id) DO NOTHING", (ticket.id, rating, comment, now.isoformat())).rowcount
            if not inserted:
                return False
            self.conn.execute("UPDATE tickets SET satisfaction = ? WHERE id = ?", (rating, ticket.id))
            self.conn.execute(
                "INSERT INTO events (site, at, kind, ticket_id, band, number, data) "
                "VALUES (?, ?, 'feedback', ?, ?, ?, ?)",
                (self.site, now.isoformat(), ticket.id, ticket.band, ticket.number, json.dumps({"rating": rating})))
        return True

    def has_feedback(self, ticket_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM feedback WHERE ticket_id = ?", (ticket_id,)).fetchone() is not None

    def idempotent_ticket(self, key: str) -> tuple[str, str] | None:
        """(ticket id, request digest) of a committed ticket issued with this Idempotency-Key."""
        row = self.conn.execute("SELECT ticket_id, request_hash FROM idempotency WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def latest_events(self, kinds: Iterable[str], since: dt.date,
                      limit: int) -> list[tuple[int, str, int | None, str | None, str | None, str]]:
        """(seq, at, number, band, counter_id, kind) of the newest events of these kinds since a day, newest first."""
        wanted = [str(k) for k in kinds]
        return self.conn.execute(
            f"SELECT seq, at, number, band, counter_id, kind FROM events WHERE site = ? "
            f"AND kind IN ({','.join('?' * len(wanted))}) AND at >= ? ORDER BY seq DESC LIMIT ?",
            (self.site, *wanted, since.isoformat(), limit)).fetchall()

    def ping(self) -> None:
        """Raises when the database does not answer."""
        self.conn.execute("SELECT 1").fetchone()

    def last_seq(self) -> int:
        return last_seq(self.conn)

    # ----- reading

    def restore(self, office: Office) -> None:
        """Load the latest service day's tickets (and any still open), the counters and the numbering."""
        row = self.conn.execute("SELECT max(service_day) FROM tickets WHERE site = ?", (self.site,)).fetchone()
        day = dt.date.fromisoformat(row[0]) if row and row[0] else None
        rows = self._rows(
            f"SELECT * FROM tickets WHERE site = ? AND (service_day = ? OR status IN ({','.join('?' * len(OPEN))}))",
            (self.site, day.isoformat() if day else "", *OPEN),
        )
        tickets = self._tickets_from(rows)
        counters = [
            Counter(r["id"], office.counters[r["id"]].label, office.counters[r["id"]].department,
                    frozenset(json.loads(r["skills"])), CounterState(r["state"]), r["staff"], r["ticket_id"])
            for r in self._rows("SELECT * FROM counters WHERE site = ?", (self.site,))
            if r["id"] in office.counters
        ]
        last_numbers = {
            r["band"]: r["last_number"]
            for r in self._rows("SELECT band, last_number FROM band_days WHERE site = ? AND day = ?",
                                (self.site, day.isoformat() if day else ""))
        }
        office.restore(day, tickets, counters, last_numbers)

    def ticket_by_token(self, token: str) -> Ticket | None:
        found = self._tickets_from(self._rows("SELECT * FROM tickets WHERE token = ?", (token,)))
        return found[0] if found else None

    def _rows(self, sql: str, params: Sequence[object]) -> list[sqlite3.Row]:
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, params).fetchall()

    def tickets_where(self, where: str, params: Sequence[object]) -> list[Ticket]:
        return self._tickets_from(self._rows(f"SELECT * FROM tickets WHERE {where}", params))

    def _tickets_from(self, records: list[sqlite3.Row]) -> list[Ticket]:
        if not records:
            return []
        ids = [r["id"] for r in records]
        steps: dict[str, list[Step]] = {i: [] for i in ids}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start:chunk_start + 500]
            for s in self._rows(f"SELECT * FROM steps WHERE ticket_id IN ({','.join('?' * len(chunk))}) "
                                "ORDER BY ticket_id, idx", chunk):
                steps[s["ticket_id"]].append(Step(s["procedure"], StepState(s["state"]), s["counter_id"],
                                                  _dt(s["started_at"]), _dt(s["finished_at"])))
        return [
            Ticket(
                id=r["id"], token=r["token"], site=r["site"], service_day=dt.date.fromisoformat(r["service_day"]),
                band=r["band"], number=r["number"], display_number=r["display_number"], language=r["language"],
                life_event=r["life_event"], steps=steps[r["id"]], issued_at=_dt(r["issued_at"]),  # type: ignore[arg-type]
                priority=frozenset(Priority(p) for p in json.loads(r["priority"])),
                status=TicketStatus(r["status"]), current=r["current"], queued_at=_dt(r["queued_at"]),
                counter_id=r["counter_id"], called_at=_dt(r["called_at"]),
                first_called_at=_dt(r["first_called_at"]), finished_at=_dt(r["finished_at"]),
                recalls=r["recalls"], has_card=bool(r["has_card"]), manual=bool(r["manual"]), sent_to=r["sent_to"],
            )
            for r in records
        ]


def remember_idempotency_key(key: str, ticket_id: str, digest: str, now: dt.datetime) -> SideWrite:
    """The side write that binds an Idempotency-Key to the ticket it issued, in the ticket's own commit."""
    def write(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO idempotency (key, ticket_id, request_hash, created_at) VALUES (?, ?, ?, ?)",
                     (key, ticket_id, digest, now.isoformat()))
    return write


def remember_estimate(site: str, ticket: Ticket, minutes: float, low: float, high: float,
                      now: dt.datetime) -> SideWrite:
    """The estimate published to a ticket at issue, kept so its accuracy can be measured once it is called."""
    def write(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO estimates (site, at, kind, ticket_id, band, minutes, low, high) "
                     "VALUES (?, ?, 'ticket', ?, ?, ?, ?, ?)",
                     (site, now.isoformat(), ticket.id, ticket.band, minutes, low, high))
    return write
