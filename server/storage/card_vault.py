"""Card data (DESIGN §8): sealed per visit, erased for good when the visit ends.

Only the four basic items read from the My Number card, to pre-fill forms. Each visit's items are
sealed with a data key of their own (Fernet: AES-128-CBC + HMAC); the data key is wrapped with the
*site key* of the service day and kept beside the sealed items in one ``card_data`` row. Erasing the
visit deletes that row (``secure_delete`` zeroes it in the database) and the writer then truncates the
WAL (service/writer.py), so neither file holds the items nor the visit's key any more.

Site keys live in a key folder outside the data folder (``/etc/madoguchi/keys`` unless
``$MADOGUCHI_KEY_DIR`` says otherwise), one file per service day, mode 0600. A new
day's key is made on first use and the keys of earlier days are destroyed (daily rotation): any copy
of card data left behind (a backup, a disk block) becomes unreadable by the next day at the latest.
Losing a key makes stored card data unreadable, which is safe: staff read the card again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import sqlite3
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from madoguchi.common.cli import CommandError
from madoguchi.server.storage.database import transaction
from madoguchi.server.storage.office_store import OPEN, SideWrite

log = logging.getLogger(__name__)

KEY_DIR_ENV = "MADOGUCHI_KEY_DIR"
DEFAULT_KEY_DIR = Path("/etc/madoguchi/keys")
RECORD_PREFIX = b"mdg1"
"""Format of a card_data record: ``mdg1:<day>:<data key wrapped by that day's site key>:<sealed items>``,
then, once the counter confirmed a 住民異動届, ``:<its hand-off sealed with the same data key>``, replaced by
``:taken`` when it was downloaded (it is downloaded once)."""
TAKEN = b"taken"
_KEY_FILE = re.compile(r"^(?P<site>[a-z0-9_-]+)\.card\.(?P<day>\d{4}-\d{2}-\d{2})\.key$")


def default_key_dir() -> Path:
    """The key folder: ``$MADOGUCHI_KEY_DIR``, else /etc/madoguchi/keys (outside any data folder)."""
    return Path(os.environ.get(KEY_DIR_ENV) or DEFAULT_KEY_DIR)


class KeyFolderError(CommandError):
    """The key folder cannot be used (missing rights, or it lies inside the data folder); every command
    that opens the site reports it as one line, without a traceback."""


class SiteKeys:
    """A site's card keys, one per service day, in ``directory``."""

    def __init__(self, directory: Path, site: str) -> None:
        self.directory = directory
        self.site = site
        self._lock = threading.Lock()
        self._cache: dict[dt.date, bytes] = {}

    def path(self, day: dt.date) -> Path:
        return self.directory / f"{self.site}.card.{day.isoformat()}.key"

    def for_day(self, day: dt.date, *, create: bool = False) -> bytes | None:
        """The key of ``day``; with ``create``, made if missing, and older days' keys destroyed."""
        with self._lock:
            if day in self._cache:
                return self._cache[day]
            path = self.path(day)
            if path.exists():
                key = self._read(path)
            elif create:
                key = self._create(path)
                self._destroy_before(day)
            else:
                return None
            self._cache[day] = key
            return key

    def check(self, data_dir: Path) -> None:
        """Refuse a key folder inside the data folder (a copy of the data would carry its key)."""
        keys, data = self.directory.resolve(), data_dir.resolve()
        if keys == data or data in keys.parents:
            raise KeyFolderError(f"the card key folder {self.directory} is inside the data folder {data_dir}: "
                                 f"choose another with {KEY_DIR_ENV}")

    def rotate(self, today: dt.date) -> None:
        """Make today's key and destroy the keys of earlier days (the server's day keeper)."""
        self.for_day(today, create=True)
        self.destroy_before(today)

    def destroy_before(self, today: dt.date) -> None:
        """Destroy the keys of earlier days, making none (any command opening the site: a key made by
        an administrator's command would belong to root and be unreadable to the server)."""
        with self._lock:
            self._destroy_before(today)

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            return path.read_bytes().strip()
        except OSError as exc:
            raise KeyFolderError(f"cannot read the card key {path}: {exc.strerror}; it must belong to the user "
                                 f"the server runs as (mode 0600)") from exc

    def _create(self, path: Path) -> bytes:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = Fernet.generate_key()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._read(path)  # another process made it meanwhile
        except OSError as exc:
            raise KeyFolderError(f"cannot create the card key {path}: {exc.strerror}; choose a key folder "
                                 f"with {KEY_DIR_ENV}") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        return key

    def _destroy_before(self, day: dt.date) -> None:
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            match = _KEY_FILE.match(path.name)
            if match and match["site"] == self.site and dt.date.fromisoformat(match["day"]) < day:
                _destroy(path)
                self._cache.pop(dt.date.fromisoformat(match["day"]), None)
                log.info("card key of %s destroyed (daily rotation)", match["day"])


def _destroy(path: Path) -> None:
    """Overwrite, then unlink (a file system may keep the old blocks, but not under this name)."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()
    except FileNotFoundError:
        pass


class CardVault:
    def __init__(self, keys: SiteKeys) -> None:
        self.keys = keys

    def store(self, ticket_id: str, card: dict[str, str], now: dt.datetime) -> SideWrite:
        """A write to commit with the ticket's issuance: the items sealed with a fresh data key, the data
        key wrapped with the site key of ``now``'s day."""
        day = now.date()
        site_key = self.keys.for_day(day, create=True)
        assert site_key is not None
        data_key = Fernet.generate_key()
        sealed = Fernet(data_key).encrypt(json.dumps(card, ensure_ascii=False).encode())
        wrapped = Fernet(site_key).encrypt(data_key)
        record = b":".join([RECORD_PREFIX, day.isoformat().encode(), wrapped, sealed])

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO card_data (ticket_id, ciphertext, created_at) VALUES (?, ?, ?)",
                         (ticket_id, record, now.isoformat()))
        return write

    def read(self, conn: sqlite3.Connection, ticket_id: str) -> dict[str, str] | None:
        row = conn.execute("SELECT ciphertext FROM card_data WHERE ticket_id = ?", (ticket_id,)).fetchone()
        if row is None:
            return None
        return self.open(bytes(row[0]))

    def open(self, record: bytes) -> dict[str, str] | None:
        """The items of one record, or None when its day's key is gone (rotated) or it is not ours."""
        opened = self._open(record)
        if opened is None:
            return None
        try:
            data: dict[str, str] = json.loads(opened[0].decrypt(opened[1][3]))
        except (InvalidToken, ValueError):
            return None
        return data

    def _open(self, record: bytes) -> tuple[Fernet, list[bytes]] | None:
        """The visit's data key and the record's parts (None: not ours, or its day's key is gone)."""
        parts = record.split(b":")
        if len(parts) not in (4, 5) or parts[0] != RECORD_PREFIX:
            return None
        try:
            site_key = self.keys.for_day(dt.date.fromisoformat(parts[1].decode()))
            if site_key is None:
                return None
            data_key = Fernet(Fernet(site_key).decrypt(parts[2]))
            data_key.decrypt(parts[3])  # the items open with it: the record is whole
        except (InvalidToken, ValueError):
            return None
        return data_key, parts

    # ----- the 住民異動届 hand-off: sealed with the visit's own data key, erased with the visit's row

    def handoff_state(self, conn: sqlite3.Connection, ticket_id: str) -> str | None:
        """``none`` (not confirmed yet), ``confirmed`` (waiting to be downloaded) or ``taken``; None: the
        visit has no card data (or its key is gone)."""
        opened = self._record(conn, ticket_id)
        if opened is None:
            return None
        parts = opened[1]
        return "none" if len(parts) == 4 else "taken" if parts[4] == TAKEN else "confirmed"

    def seal_handoff(self, conn: sqlite3.Connection, ticket_id: str, form: dict[str, object]) -> str | None:
        """Keep the confirmed form sealed beside the card data (replacing an earlier one); the state it was
        in before (``taken``: refused, nothing written), or None when the visit has no card data."""
        opened = self._record(conn, ticket_id)
        if opened is None:
            return None
        data_key, parts = opened
        if len(parts) == 5 and parts[4] == TAKEN:
            return "taken"
        sealed = data_key.encrypt(json.dumps(form, ensure_ascii=False).encode())
        self._rewrite(conn, ticket_id, [*parts[:4], sealed])
        return "none" if len(parts) == 4 else "confirmed"

    def read_handoff(self, conn: sqlite3.Connection, ticket_id: str) -> dict[str, object] | None:
        """The confirmed form, shown back to the serving counter (None: not confirmed, or taken)."""
        opened = self._record(conn, ticket_id)
        if opened is None or len(opened[1]) == 4 or opened[1][4] == TAKEN:
            return None
        try:
            form: dict[str, object] = json.loads(opened[0].decrypt(opened[1][4]))
        except (InvalidToken, ValueError):
            return None
        return form

    def take_handoff(self, conn: sqlite3.Connection, ticket_id: str) -> tuple[str, dict[str, object] | None]:
        """The confirmed form, once: (``confirmed``, form) and the sealed form is replaced by a mark; else
        (state, None) with the state ``none``, ``taken`` or ``missing`` (no card data)."""
        opened = self._record(conn, ticket_id)
        if opened is None:
            return "missing", None
        data_key, parts = opened
        if len(parts) == 4:
            return "none", None
        if parts[4] == TAKEN:
            return "taken", None
        try:
            form: dict[str, object] = json.loads(data_key.decrypt(parts[4]))
        except (InvalidToken, ValueError):
            return "missing", None
        self._rewrite(conn, ticket_id, [*parts[:4], TAKEN])
        return "confirmed", form

    def _record(self, conn: sqlite3.Connection, ticket_id: str) -> tuple[Fernet, list[bytes]] | None:
        row = conn.execute("SELECT ciphertext FROM card_data WHERE ticket_id = ?", (ticket_id,)).fetchone()
        return self._open(bytes(row[0])) if row else None

    @staticmethod
    def _rewrite(conn: sqlite3.Connection, ticket_id: str, parts: list[bytes]) -> None:
        # secure_delete is on: the cell's old bytes are overwritten in the database; the WAL's copy is
        # cut when the visit ends (its row deleted) like the card data's
        with transaction(conn):
            conn.execute("UPDATE card_data SET ciphertext = ? WHERE ticket_id = ?", (b":".join(parts), ticket_id))

    def digest(self, card: dict[str, str], day: dt.date) -> str:
        """A keyed digest of card data (HMAC with the day's site key) to tell a replay with other card
        data apart, without storing anything that could be matched against a known name."""
        site_key = self.keys.for_day(day, create=True)
        assert site_key is not None
        text = json.dumps(card, ensure_ascii=False, sort_keys=True).encode()
        return hmac.new(site_key, text, hashlib.sha256).hexdigest()

    @staticmethod
    def erase_closed(conn: sqlite3.Connection) -> int:
        """Delete card data of every visit no longer open (the day-end sweep)."""
        cursor = conn.execute(
            f"DELETE FROM card_data WHERE ticket_id NOT IN "
            f"(SELECT id FROM tickets WHERE status IN ({','.join('?' * len(OPEN))}))", OPEN)
        return cursor.rowcount
