"""Residents' feedback comments are kept for a while, then erased; the rating stays for the KPI."""

from __future__ import annotations

import datetime as dt
import sqlite3

from madoguchi.server.storage.database import transaction

MAX_COMMENT = 1000
"""Characters of a feedback comment (the status page's textarea says so too)."""


def expire_comments(conn: sqlite3.Connection, before: dt.datetime) -> int:
    """Erase the comments given before ``before`` (``PRAGMA secure_delete`` overwrites them); returns how many."""
    with transaction(conn):
        return conn.execute("UPDATE feedback SET comment = NULL WHERE comment IS NOT NULL AND at < ?",
                            (before.isoformat(),)).rowcount
