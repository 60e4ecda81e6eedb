"""Staff users (argon2-hashed passwords, roles), devices (bearer tokens) and staff sessions.

A counter user's session is bound to the counter they signed in at; a change of password or role
ends every session of that user; a locked account (too many wrong passwords) stays locked until an
admin unlocks it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from madoguchi.server.storage.database import transaction
from madoguchi.server.storage.roles import DeviceKind, Role

__all__ = ["Accounts", "DeviceKind", "Principal", "Role"]

RECHECK = dt.timedelta(seconds=10)
# OWASP's argon2id setting (19 MiB, 2 passes, one lane): a check takes one core for ~20 ms, so a flood
# of sign-ins bounded to one check at a time leaves the other core to the counters and kiosks, and
# memory grows by 19 MiB at most. Online guessing is stopped by the sign-in limits, not by the cost.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class SignInLimits:
    """How many wrong passwords a source address or an account may try (server/api/signin.py)."""

    failures_per_source: int = 5
    failures_per_account: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    lockout_after: int = 20
    """Consecutive failures of one account name before it is locked until an admin unlocks it."""
    concurrency: int = 1
    """Password checks running at once (each takes 19 MiB and one core for ~20 ms)."""
    queue: int = 4
    """Sign-ins that may wait for a check; beyond them the answer is an immediate 429."""
    refusal_delay_s: float = 2.0
    """Pause before answering an address or account that is throttled or locked."""


class UserExists(Exception):
    """Creating a user whose name is taken (updating is its own call)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff user (with a role) or a device (with a kind)."""

    name: str
    role: str  # a Role or a DeviceKind value
    is_device: bool
    counter: str | None = None
    """The counter a staff session was opened at (counter users must name one at sign-in)."""


@dataclass(frozen=True)
class Login:
    """What a sign-in needs to know of a user, read before the (slow) password check."""

    password_hash: str
    role: str
    locked: bool


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
        self.hasher = HASHER
        self._dummy_hash: str | None = None
        # token hash -> (who, trusted until): every request resolves its token. Any change made here clears
        # it; a change made by another process (the CLI revoking a device) is seen within RECHECK.
        self._resolved: dict[str, tuple[Principal, dt.datetime]] = {}

    # ----- users

    def create_user(self, username: str, role: Role, password: str, now: dt.datetime) -> None:
        """A new user; ``UserExists`` when the name is taken (also by a disabled user)."""
        password_hash = self.hasher.hash(password)
        with transaction(self.conn):
            try:
                self.conn.execute(
                    "INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (username, role.value, password_hash, now.isoformat()))
            except sqlite3.IntegrityError:
                raise UserExists(username) from None

    def add_user(self, username: str, role: Role, password: str, now: dt.datetime) -> None:
        """Create, or set role and password and enable again (the CLI's ``user add``); ends the user's sessions."""
        self._resolved.clear()
        password_hash = self.hasher.hash(password)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash,"
                " disabled = 0, locked = 0",
                (username, role.value, password_hash, now.isoformat()))
            self.conn.execute("DELETE FROM sessions WHERE username = ?", (username,))

    def update_user(self, username: str, role: Role | None = None, password: str | None = None) -> bool:
        """Change role and/or password; every session of the user ends. False when there is no such user."""
        self._resolved.clear()
        password_hash = self.hasher.hash(password) if password is not None else None
        with transaction(self.conn):
            changed = self.conn.execute(
                "UPDATE users SET role = coalesce(?, role), password_hash = coalesce(?, password_hash) "
                "WHERE username = ?", (role.value if role else None, password_hash, username)).rowcount
            self.conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
        return changed > 0

    def users(self) -> list[tuple[str, str, bool]]:
        return [(u, r, bool(d)) for u, r, d in
                self.conn.execute("SELECT username, role, disabled FROM users ORDER BY username")]

    def locked_users(self) -> set[str]:
        return {u for (u,) in self.conn.execute("SELECT username FROM users WHERE locked = 1")}

    def disable_user(self, username: str) -> bool:
        self._resolved.clear()
        with transaction(self.conn):
            changed = self.conn.execute("UPDATE users SET disabled = 1 WHERE username = ?", (username,)).rowcount
            self.conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
        return changed > 0

    def enable_user(self, username: str) -> bool:
        """A disabled account may sign in again, with the password it had."""
        self._resolved.clear()
        with transaction(self.conn):
            changed = self.conn.execute("UPDATE users SET disabled = 0 WHERE username = ?", (username,)).rowcount
        return changed > 0

    def lock_user(self, username: str) -> bool:
        """Too many wrong passwords: refused until an admin unlocks; its sessions end too."""
        self._resolved.clear()
        with transaction(self.conn):
            changed = self.conn.execute("UPDATE users SET locked = 1 WHERE username = ?", (username,)).rowcount
            self.conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
        return changed > 0

    def unlock_user(self, username: str) -> bool:
        with transaction(self.conn):
            return self.conn.execute("UPDATE users SET locked = 0 WHERE username = ?", (username,)).rowcount > 0

    def login(self, username: str) -> Login | None:
        """The user's hash, role and lock, or None for an unknown or disabled user."""
        row = self.conn.execute("SELECT password_hash, role, locked FROM users WHERE username = ? AND disabled = 0",
                                (username,)).fetchone()
        return Login(row[0], row[1], bool(row[2])) if row else None

    def password_hash(self, username: str) -> tuple[str, str] | None:
        found = self.login(username)
        return (found.password_hash, found.role) if found else None

    def dummy_hash(self) -> str:
        """A hash with today's parameters that no password matches: checked for unknown or disabled
        users, so a wrong name takes as long as a wrong password (names cannot be probed by timing).
        Needs no lock (made once, in the worker thread of the first such check)."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(new_token())
        return self._dummy_hash

    def verify(self, stored_hash: str, password: str) -> bool:
        """Thread-safe and lock-free: the slow part of a sign-in."""
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def rehashed(self, stored_hash: str, password: str) -> str | None:
        """After a right password: its hash with today's parameters if it was made with older ones
        (slow, lock-free: run it outside the storage lock)."""
        try:
            return self.hasher.hash(password) if self.hasher.check_needs_rehash(stored_hash) else None
        except InvalidHashError:
            return None

    def replace_hash(self, username: str, old_hash: str, new_hash: str) -> None:
        with transaction(self.conn):
            self.conn.execute("UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?",
                              (new_hash, username, old_hash))

    # ----- sessions

    def open_session(self, username: str, now: dt.datetime, ttl: dt.timedelta, counter: str | None = None) -> str:
        """A new session token; ``counter`` binds it to the counter the user signed in at."""
        token = new_token()
        self._resolved.clear()
        with transaction(self.conn):
            self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (_utc(now),))
            self.conn.execute("INSERT INTO sessions (token_hash, username, expires_at, counter_id) VALUES (?, ?, ?, ?)",
                              (token_hash(token), username, _utc(now + ttl), counter))
        return token

    def sessions_of(self, username: str) -> int:
        return int(self.conn.execute("SELECT count(*) FROM sessions WHERE username = ?", (username,)).fetchone()[0])

    def signed_in(self, now: dt.datetime) -> dict[str, list[str | None]]:
        """Who has an open session, and at which counter each (None: not at a counter)."""
        found: dict[str, list[str | None]] = {}
        for username, counter in self.conn.execute(
                "SELECT username, counter_id FROM sessions WHERE expires_at > ? ORDER BY username, counter_id",
                (_utc(now),)):
            found.setdefault(username, []).append(counter)
        return found

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
            "SELECT u.username, u.role, s.expires_at, s.counter_id FROM sessions s "
            "JOIN users u ON u.username = s.username "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0 AND u.locked = 0",
            (digest, _utc(now))).fetchone()
        if row:
            expires = dt.datetime.fromisoformat(row[2])
            self._resolved[digest] = (Principal(row[0], row[1], False, row[3]), min(expires, now + RECHECK))
            return self._resolved[digest][0]
        return None
