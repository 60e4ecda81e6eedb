"""The composition root: ``build(settings)`` wires storage, office, clock and publisher.

The API, the CLI and the tests all call it. Every command runs under one lock (the server is the
single writer) and its changes are committed, with fsync, before the caller gets an answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .calls import CallLog
from .clock import Clock, SystemClock
from .configuration import default_config_dir
from .core.errors import DomainError
from .core.office import Changes, Office
from .core.snapshot import snapshot
from .ids import RandomIds
from .protocol import StatePayload
from .publisher import NullPublisher, Publisher
from .sites import LoadedSite, load
from .storage.accounts import Accounts
from .storage.card_vault import CardVault, load_or_create_key
from .storage.database import connect, transaction
from .storage.office_store import OfficeStore, Transaction
from .views import state_payload

log = logging.getLogger(__name__)
T = TypeVar("T")


class StorageUnavailable(Exception):
    """The database refused a commit; nothing of the command was kept."""


@dataclass(frozen=True)
class Settings:
    site: str
    data_dir: Path
    config_dir: Path = field(default_factory=default_config_dir)
    ignore_hours: bool = False
    public_url: str = "http://127.0.0.1:8000"
    """Base of the status URLs printed as QR codes on tickets."""
    session_ttl: dt.timedelta = dt.timedelta(hours=10)

    @property
    def database_path(self) -> Path:
        return self.data_dir / f"{self.site}.sqlite3"

    @property
    def card_key_path(self) -> Path:
        return self.data_dir / "keys" / f"{self.site}.card.key"


@dataclass
class Services:
    settings: Settings
    site: LoadedSite
    clock: Clock
    store: OfficeStore
    accounts: Accounts
    vault: CardVault
    office: Office
    publisher: Publisher
    calls: CallLog
    seq: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _keeper: threading.Thread | None = None

    def execute(self, command: Callable[[Office, dt.datetime, Transaction], T]) -> T:
        """Run a command on the office and commit its changes before returning its result."""
        with self.lock:
            now = self.clock.now()
            tx = Transaction()
            try:
                self.office.roll_day(now)
                result = command(self.office, now, tx)
            except DomainError:
                self._commit(self.office.take_changes(), None)  # a day roll may have happened
                raise
            except BaseException:
                self._reload()
                raise
            self._commit(self.office.take_changes(), tx)
            return result

    def read(self, query: Callable[[Office, dt.datetime], T]) -> T:
        with self.lock:
            return query(self.office, self.clock.now())

    def _commit(self, changes: Changes, tx: Transaction | None) -> None:
        if not changes.events and not changes.tickets and not changes.counters and not (tx and tx.side_writes):
            return
        try:
            self.seq = self.store.commit(changes, tx)
        except Exception as exc:
            log.error("commit failed, reloading the office from the database: %s", type(exc).__name__)
            self._reload()
            raise StorageUnavailable from exc
        new_calls = self.calls.record(self.office, changes.events, self.seq)
        self.publisher.changed(self, changes, new_calls)

    def state(self) -> StatePayload:
        """What displays see (the MQTT state payload and GET /state)."""
        with self.lock:
            now = self.clock.now()
            return state_payload(snapshot(self.office, now), self.seq, self.calls.recent())

    def _reload(self) -> None:
        self.office = new_office(self.site, self.settings)
        self.store.restore(self.office)

    def start_day_keeper(self, interval_s: float = 30.0) -> None:
        """A background thread that rolls the service day over at midnight even when nobody acts,
        so yesterday's open visits end and their card data is erased on time (DESIGN §8)."""
        def keep() -> None:
            while not self._stopping.wait(interval_s):
                try:
                    self.execute(lambda office, now, tx: None)
                except Exception as exc:
                    log.error("day keeper: %s", type(exc).__name__)
        self._keeper = threading.Thread(target=keep, name="madoguchi-day-keeper", daemon=True)
        self._keeper.start()

    def close(self) -> None:
        self._stopping.set()
        if self._keeper is not None:
            self._keeper.join(5)
        self.publisher.close()
        with self.lock:
            self.store.conn.close()


def new_office(site: LoadedSite, settings: Settings) -> Office:
    return Office(site.rules, site.catalog, RandomIds(), enforce_hours=not settings.ignore_hours)


def build(settings: Settings, clock: Clock | None = None, publisher: Publisher | None = None) -> Services:
    site = load(settings.config_dir, settings.site)
    db = connect(settings.database_path)
    store = OfficeStore(db, settings.site)
    office = new_office(site, settings)
    store.restore(office)
    with transaction(db.conn):
        CardVault.erase_closed(db.conn)  # whatever a crash left behind
    calls = CallLog(settings.site)
    calls.load(db.conn, office)
    return Services(
        settings=settings, site=site, clock=clock or SystemClock(site.config.timezone), store=store,
        accounts=Accounts(db.conn), vault=CardVault(load_or_create_key(settings.card_key_path)),
        office=office, publisher=publisher or NullPublisher(), calls=calls, seq=store.last_seq(),
    )
