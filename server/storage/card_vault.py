"""Card data (DESIGN §8): encrypted at rest with a site key kept outside the database.

Only the four basic items read from the My Number card, to pre-fill forms. They are sealed with
Fernet (AES-128-CBC + HMAC), stored per visit, shown only to the counter serving that visit, and
deleted when the visit ends and at day end. The key file lives in the data directory with mode
0600, or comes from MADOGUCHI_CARD_KEY; losing it makes stored card data unreadable, which is safe.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from madoguchi.server.storage.office_store import OPEN, SideWrite

KEY_ENV = "MADOGUCHI_CARD_KEY"


def load_or_create_key(path: Path) -> bytes:
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class CardVault:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def store(self, ticket_id: str, card: dict[str, str], now: dt.datetime) -> SideWrite:
        """A write to commit with the ticket's issuance."""
        sealed = self._fernet.encrypt(json.dumps(card, ensure_ascii=False).encode())

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO card_data (ticket_id, ciphertext, created_at) VALUES (?, ?, ?)",
                         (ticket_id, sealed, now.isoformat()))
        return write

    def read(self, conn: sqlite3.Connection, ticket_id: str) -> dict[str, str] | None:
        row = conn.execute("SELECT ciphertext FROM card_data WHERE ticket_id = ?", (ticket_id,)).fetchone()
        if row is None:
            return None
        try:
            data: dict[str, str] = json.loads(self._fernet.decrypt(row[0]))
        except InvalidToken:
            return None  # sealed with another key: treat as gone
        return data

    @staticmethod
    def erase_closed(conn: sqlite3.Connection) -> int:
        """Delete card data of every visit no longer open (the day-end sweep)."""
        cursor = conn.execute(
            f"DELETE FROM card_data WHERE ticket_id NOT IN "
            f"(SELECT id FROM tickets WHERE status IN ({','.join('?' * len(OPEN))}))", OPEN)
        return cursor.rowcount
