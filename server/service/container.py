"""The service layer: the ``Services`` container that the API, the CLI and the tests drive.

Every command is applied to the office under one lock
(the server is the single writer) and answered only once its changes, and everything applied before
them, are committed with fsync (service/writer.py batches the commits).

A refusal (a ``DomainError``: invalid request, conflict, a reused idempotency key…) is decided before
the command changes anything and is never taken for a failure: nothing is reloaded. Only a failed
write, or a command that breaks unexpectedly, reloads the office from the database, and only after
the writer has finished everything queued before (STYLE §18).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from madoguchi.common.protocol import StatePayload
from madoguchi.server.core.errors import DomainError
from madoguchi.server.core.office import Changes, Office
from madoguchi.server.core.snapshot import snapshot
from madoguchi.server.mqtt.port import Commit, Publisher, SequencedEvent
from madoguchi.server.service.clock import Clock
from madoguchi.server.service.devices import DeviceRegistry
from madoguchi.server.service.fanout import Fanout
from madoguchi.server.service.presenters import state_payload
from madoguchi.server.service.recent_calls import CallLog
from madoguchi.server.service.writer import Pending, Writer
from madoguchi.server.storage.accounts import Accounts
from madoguchi.server.storage.card_vault import CardVault
from madoguchi.server.storage.database import connect
from madoguchi.server.storage.office_store import OfficeStore, Transaction, rows_of

if TYPE_CHECKING:
    from madoguchi.server.composition import Settings
    from madoguchi.server.config.loading import LoadedSite

log = logging.getLogger(__name__)
T = TypeVar("T")


class StorageUnavailable(Exception):
    """The database refused a commit; nothing of the command was kept."""


@dataclass
class Services:
    settings: Settings
    site: LoadedSite
    new_office: Callable[[], Office]
    """A fresh office for this site, empty until the store restores it (used on reload)."""
    clock: Clock
    store: OfficeStore
    accounts: Accounts
    vault: CardVault
    office: Office
    publisher: Publisher
    calls: CallLog
    writer_conn: sqlite3.Connection
    seq: int = 0
    fanout: Fanout = field(default_factory=Fanout)
    devices: DeviceRegistry = field(default_factory=DeviceRegistry)
    """The latest health each REST-only device (kiosk) reported."""
    """The staff pages' live streams: fed the same commits as the publisher, right after it."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    pending_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Idempotency keys (scoped per device) of tickets applied but not yet committed:
    key -> (ticket id, request digest)."""
    _writer: Writer | None = None
    _last: Future[None] | None = None
    _generation: int = 0
    """Bumped at each reload; queued commands of an older, lost generation are never written."""
    _stopping: threading.Event = field(default_factory=threading.Event)
    _keeper: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._writer = Writer(self.writer_conn, self._committed,
                              checkpoint_conn=connect(self.settings.database_path))

    # ----- commands

    def apply(self, command: Callable[[Office, dt.datetime, Transaction], T]) -> tuple[T, Future[None] | None]:
        """Run a command on the office now; the future completes when it (and all before it) is on disk."""
        with self.lock:
            self._reload_if_lost()
            now = self.clock.now()
            tx = Transaction()
            try:
                self.office.roll_day(now)
                result = command(self.office, now, tx)
            except DomainError:
                # a refusal, decided before the command changed anything (a day roll may have happened)
                self._queue(self.office.take_changes(), None)
                raise
            except BaseException:
                # a bug, not a refusal: the office may be half changed. Everything queued before this
                # command is sound and is still written; then the office comes back from the database.
                self._reload()
                raise
            return result, self._queue(self.office.take_changes(), tx) or self._last

    def execute(self, command: Callable[[Office, dt.datetime, Transaction], T]) -> T:
        """Run a command and return its result once it is committed (blocking; threads and tools)."""
        result, committed = self.apply(command)
        if committed is not None:
            self._wait(committed.result)
        return result

    async def execute_async(self, command: Callable[[Office, dt.datetime, Transaction], T]) -> T:
        """The same for the event loop: the loop keeps serving while the commit is written."""
        result, committed = self.apply(command)
        if committed is not None:
            future = asyncio.wrap_future(committed)
            try:
                await future
            except Exception as exc:
                self._after_loss()
                raise StorageUnavailable from exc
        return result

    def _wait(self, result: Callable[[], None]) -> None:
        try:
            result()
        except Exception as exc:
            self._after_loss()
            raise StorageUnavailable from exc

    def _after_loss(self) -> None:
        """The caller whose change was lost reloads the office at once (others would on their next use)."""
        with self.lock:
            self._reload_if_lost()

    def read(self, query: Callable[[Office, dt.datetime], T]) -> T:
        with self.lock:
            self._reload_if_lost()
            return query(self.office, self.clock.now())

    def _reload_if_lost(self) -> None:
        """After a failed write the office holds changes that are not on disk: load it again."""
        assert self._writer is not None
        if self._writer.poisoned >= self._generation:
            self._reload()

    def _queue(self, changes: Changes, tx: Transaction | None) -> Future[None] | None:
        rows = rows_of(self.settings.site, changes, tx)
        if rows.empty:
            return None
        assert self._writer is not None
        self._last = self._writer.submit(Pending(rows, changes, self._generation))
        return self._last

    def _committed(self, batch: list[Pending], last_seq: int) -> None:
        """Writer thread, after a successful write (without the office lock): sequence numbers, calls,
        listeners. A batch's events are consecutive rows of the log, so each event gets the seq of its
        own row. Each call is handed to the publisher before it joins the recent calls that
        ``state()`` lists, so a display never sees a call in a state before the call itself."""
        seq = last_seq - sum(len(p.rows.events) for p in batch)
        for pending in batch:
            events = tuple(SequencedEvent(seq + i, event) for i, event in enumerate(pending.changes.events, 1))
            seq += len(events)
            new_calls = self.calls.payloads(self.office, events)
            self.seq = seq
            commit = Commit(events, tuple(new_calls))
            self.publisher.changed(commit)
            self.fanout.changed(commit)
            self.calls.remember(new_calls)
            if pending.rows.idempotency_key:
                self.pending_keys.pop(pending.rows.idempotency_key, None)
        self.seq = last_seq

    def state(self) -> StatePayload:
        """What displays see (the MQTT state payload and GET /state).

        Its ``seq`` and ``recent_calls`` are those of committed changes only: a call reaches the
        publisher's queue before any state that lists it can be read.
        """
        with self.lock:
            now = self.clock.now()
            return state_payload(snapshot(self.office, now), self.seq, self.calls.recent())

    def _reload(self) -> None:
        """Under the lock: wait until the writer has written (or failed) all that is queued, then read
        the office back as a new generation. Without the wait, a batch being written meanwhile would be
        on disk, and answered, but missing from the office read back."""
        assert self._writer is not None
        self._writer.drain()
        self._generation += 1
        self._last = None  # a lost commit is not something later no-change commands wait for
        self.pending_keys.clear()
        self.office = self.new_office()
        self.store.restore(self.office)

    def start_day_keeper(self, interval_s: float = 30.0) -> None:
        """A background thread that rolls the service day over at midnight even when nobody acts,
        so yesterday's open visits end and their card data is erased on time (DESIGN §8). Today's card
        key is made now, by the server's own user, so a key folder it cannot use stops it at start."""
        self.vault.keys.rotate(self.clock.now().date())
        def keep() -> None:
            while not self._stopping.wait(interval_s):
                try:
                    self.execute(lambda office, now, tx: None)
                    self.vault.keys.rotate(self.clock.now().date())  # a new card key each day
                except Exception as exc:
                    log.error("day keeper: %s", type(exc).__name__)
        self._keeper = threading.Thread(target=keep, name="madoguchi-day-keeper", daemon=True)
        self._keeper.start()

    def close(self) -> None:
        self._stopping.set()
        if self._keeper is not None:
            self._keeper.join(5)
        if self._writer is not None:
            self._writer.close()
        self.publisher.close()
        with self.lock:
            self.writer_conn.close()
            self.store.conn.close()
