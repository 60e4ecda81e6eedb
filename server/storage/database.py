"""Opening the site database: SQLite in WAL mode, fsync on every commit, versioned migrations."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

Migration = Callable[[sqlite3.Connection], None]


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Statement by statement (executescript would commit the migration's transaction early)."""
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection) -> None:
    _run_script(conn, """
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, site TEXT NOT NULL, service_day TEXT NOT NULL,
        band TEXT NOT NULL, number INTEGER NOT NULL, display_number TEXT NOT NULL, language TEXT NOT NULL,
        life_event TEXT, priority TEXT NOT NULL DEFAULT '[]', status TEXT NOT NULL, current INTEGER NOT NULL,
        issued_at TEXT NOT NULL, queued_at TEXT, counter_id TEXT, called_at TEXT, first_called_at TEXT,
        finished_at TEXT, recalls INTEGER NOT NULL DEFAULT 0, has_card INTEGER NOT NULL DEFAULT 0,
        manual INTEGER NOT NULL DEFAULT 0, satisfaction INTEGER
    );
    -- a number is never open twice in a site, band and day: the database itself refuses it
    CREATE UNIQUE INDEX tickets_open_number ON tickets (site, service_day, band, number)
        WHERE status IN ('waiting', 'called', 'serving', 'held');
    CREATE INDEX tickets_day ON tickets (site, service_day);
    CREATE TABLE steps (
        ticket_id TEXT NOT NULL REFERENCES tickets(id), idx INTEGER NOT NULL, procedure TEXT NOT NULL,
        state TEXT NOT NULL, counter_id TEXT, started_at TEXT, finished_at TEXT,
        PRIMARY KEY (ticket_id, idx)
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL,
        ticket_id TEXT, counter_id TEXT, band TEXT, number INTEGER, step INTEGER, procedure TEXT,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_ticket ON events (ticket_id);
    CREATE INDEX events_at ON events (site, at);
    CREATE TABLE counters (
        site TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL, skills TEXT NOT NULL, staff TEXT,
        ticket_id TEXT, PRIMARY KEY (site, id)
    );
    CREATE TABLE band_days (
        site TEXT NOT NULL, band TEXT NOT NULL, day TEXT NOT NULL, last_number INTEGER NOT NULL,
        PRIMARY KEY (site, band, day)
    );
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY, ticket_id TEXT NOT NULL REFERENCES tickets(id), request_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE card_data (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets(id), ciphertext BLOB NOT NULL, created_at TEXT NOT NULL
    );
    CREATE TABLE estimates (
        id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL,
        ticket_id TEXT, band TEXT NOT NULL, minutes REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL
    );
    CREATE INDEX estimates_ticket ON estimates (ticket_id);
    CREATE TABLE feedback (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets(id), rating INTEGER NOT NULL, comment TEXT,
        at TEXT NOT NULL
    );
    CREATE TABLE users (
        username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL
    );
    CREATE TABLE devices (
        name TEXT PRIMARY KEY, kind TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
        revoked INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username),
        expires_at TEXT NOT NULL
    );
    """)


def _v2_sign_in_and_audit(conn: sqlite3.Connection) -> None:
    """Counter sessions bound to one counter, account lock-out, the card-read audit, feedback retention."""
    _run_script(conn, """
    ALTER TABLE sessions ADD COLUMN counter_id TEXT;
    ALTER TABLE users ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE card_reads (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, username TEXT NOT NULL,
        counter_id TEXT NOT NULL, ticket_id TEXT NOT NULL
    );
    CREATE INDEX card_reads_ticket ON card_reads (ticket_id);
    CREATE INDEX feedback_at ON feedback (at);
    """)


def _v3_send_on(conn: sqlite3.Connection) -> None:
    """A visit's next step sent to a chosen counter waits for that counter only."""
    _run_script(conn, "ALTER TABLE tickets ADD COLUMN sent_to TEXT;")


def _v4_handoff_audit(conn: sqlite3.Connection) -> None:
    """The card-data audit tells a card read from the one download of a 住民異動届 hand-off."""
    _run_script(conn, "ALTER TABLE card_reads ADD COLUMN kind TEXT NOT NULL DEFAULT 'card';")


MIGRATIONS: list[Migration] = [_v1, _v2_sign_in_and_audit, _v3_send_on, _v4_handoff_audit]


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations the file has not seen yet, each in its own transaction."""
    current = schema_version(conn)
    if current > len(MIGRATIONS):
        raise RuntimeError(f"database schema version {current} is newer than this madoguchi "
                           f"({len(MIGRATIONS)}): upgrade madoguchi before opening it")
    for version, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        log.info("migrating database to schema version %d", version)
        with transaction(conn):
            migration(conn)
            conn.execute(f"PRAGMA user_version = {version}")


def database_path(data_dir: Path, site: str) -> Path:
    """Where a site's database lives in a data folder (one database per site server, DESIGN §4)."""
    return data_dir / f"{site}.sqlite3"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` with madoguchi's durability settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")  # an issued ticket survives power loss
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")  # erased card data is overwritten, not left in free pages
    conn.execute("PRAGMA busy_timeout = 30000")
    migrate(conn)
    return conn


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection of its own (reports, exports): long reads never hold the office's
    connection or lock, and under WAL they never block the writer."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA query_only = ON")
    return conn


def backup(source: Path, target: Path, progress: Callable[[int, int], None] | None = None) -> None:
    """Online backup of a live database (SQLite's backup API: consistent, no lock held long)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        def report(status: int, remaining: int, total: int) -> None:
            if progress:
                progress(total - remaining, total)
        src.backup(dst, pages=256, progress=report)
        # Card data never goes into a backup (DESIGN §8: erased means unreadable from a backup too; it
        # lives only as long as its visit, which a backup outlives): deleted from the copy, which is
        # then rebuilt, so not even its freed pages hold it.
        dst.execute("PRAGMA secure_delete = ON")
        dst.execute("DELETE FROM card_data")
        dst.commit()
        dst.execute("VACUUM")
    finally:
        dst.close()
        src.close()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception (the connection is in autocommit mode)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
