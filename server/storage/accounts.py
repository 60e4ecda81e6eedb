"""Staff users (argon2-hashed passwords, roles), devices (bearer tokens) and staff sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from madoguchi.server.storage.database import transaction

RECHECK = dt.timedelta(seconds=10)


class Role(StrEnum):
    COUNTER = "counter"
    GUIDE = "guide"
    MANAGER = "manager"
    ADMIN = "admin"


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff user (with a role) or a device (with a kind)."""

    name: str
    role: str  # a Role or a DeviceKind value
    is_device: bool


def _utc(moment: dt.datetime) -> str:
    """Expiry times are compared as text: always written in UTC so the comparison is right."""
    return moment.astimezone(dt.UTC).isoformat()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Accounts:
    """All methods expect the caller to hold the storage lock; password checks happen outside it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.hasher = PasswordHasher()
        # token hash -> (who, trusted until): every request resolves its token. Any change made here clears
        # it; a change made by another process (the CLI revoking a device) is seen within RECHECK.
        self._resolved: dict[str, tuple[Principal, dt.datetime]] = {}

    # ----- users

    def add_user(self, username: str, role: Role, password: str, now: dt.datetime) -> None:
        self._resolved.clear()
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash,"
                " disabled = 0",
                (username, role.value, self.hasher.hash(password), now.isoformat()))

    def users(self) -> list[tuple[str, str, bool]]:
        return [(u, r, bool(d)) for u, r, d in
                self.conn.execute("SELECT username, role, disabled FROM users ORDER BY username")]

    def disable_user(self, username: str) -> bool:
        self._resolved.clear()
        with transaction(self.conn):
            changed = self.conn.execute("UPDATE users SET disabled = 1 WHERE username = ?", (username,)).rowcount
            self.conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
        return changed > 0

    def password_hash(self, username: str) -> tuple[str, str] | None:
        row = self.conn.execute("SELECT password_hash, role FROM users WHERE username = ? AND disabled = 0",
                                (username,)).fetchone()
        return (row[0], row[1]) if row else None

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # ----- sessions

    def open_session(self, username: str, now: dt.datetime, ttl: dt.timedelta) -> str:
        token = new_token()
        self._resolved.clear()
        with transaction(self.conn):
            self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (_utc(now),))
            self.conn.execute("INSERT INTO sessions (token_hash, username, expires_at) VALUES (?, ?, ?)",
                              (token_hash(token), username, _utc(now + ttl)))
        return token

    def close_session(self, token: str) -> None:
        self._resolved.clear()
        with transaction(self.conn):
            self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash(token),))

    # ----- devices

    def add_device(self, name: str, kind: DeviceKind, now: dt.datetime) -> str:
        token = new_token()
        self._resolved.clear()
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO devices (name, kind, token_hash, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, token_hash = excluded.token_hash,"
                " revoked = 0",
                (name, kind.value, token_hash(token), now.isoformat()))
        return token

    def revoke_device(self, name: str) -> bool:
        self._resolved.clear()
        with transaction(self.conn):
            return self.conn.execute("UPDATE devices SET revoked = 1 WHERE name = ?", (name,)).rowcount > 0

    def devices(self) -> list[tuple[str, str, bool]]:
        return [(n, k, bool(r)) for n, k, r in
                self.conn.execute("SELECT name, kind, revoked FROM devices ORDER BY name")]

    # ----- resolving a bearer token

    def principal(self, token: str, now: dt.datetime) -> Principal | None:
        digest = token_hash(token)
        cached = self._resolved.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        row = self.conn.execute("SELECT name, kind FROM devices WHERE token_hash = ? AND revoked = 0",
                                (digest,)).fetchone()
        if row:
            self._resolved[digest] = (Principal(row[0], row[1], True), now + RECHECK)
            return self._resolved[digest][0]
        row = self.conn.execute(
            "SELECT u.username, u.role, s.expires_at FROM sessions s JOIN users u ON u.username = s.username "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0", (digest, _utc(now))).fetchone()
        if row:
            expires = dt.datetime.fromisoformat(row[2])
            self._resolved[digest] = (Principal(row[0], row[1], False), min(expires, now + RECHECK))
            return self._resolved[digest][0]
        return None
