"""The composition root: ``build(settings)`` wires configuration, storage, office, clock and publisher.

The API, the CLI, the demo and the tests all call it; nothing is built at import time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from madoguchi.server.config.loading import LoadedSite, load
from madoguchi.server.config.schema import default_config_dir
from madoguchi.server.core.office import Office
from madoguchi.server.mqtt.port import NullPublisher, Publisher
from madoguchi.server.service.clock import Clock, SystemClock
from madoguchi.server.service.container import Services
from madoguchi.server.service.devices import STALE, DeviceRegistry
from madoguchi.server.service.fanout import Fanout
from madoguchi.server.service.ids import RandomIds
from madoguchi.server.service.recent_calls import CallLog
from madoguchi.server.storage.accounts import Accounts, SignInLimits
from madoguchi.server.storage.card_vault import CardVault, SiteKeys, default_key_dir
from madoguchi.server.storage.database import connect, database_path, transaction
from madoguchi.server.storage.feedback import expire_comments
from madoguchi.server.storage.office_store import OfficeStore


@dataclass(frozen=True)
class Settings:
    site: str
    data_dir: Path
    config_dir: Path = field(default_factory=default_config_dir)
    ignore_hours: bool = False
    public_url: str = "http://127.0.0.1:8000"
    """Base of the status URLs printed as QR codes on tickets."""
    session_ttl: dt.timedelta = dt.timedelta(hours=10)
    key_dir: Path = field(default_factory=default_key_dir)
    """The site's card keys (DESIGN §8): outside the data folder, so a copy of it carries no key."""
    signin: SignInLimits = field(default_factory=SignInLimits)
    """Wrong-password limits per address and account, lock-out, password checks at once."""
    secure_cookies: bool = False
    """Always mark the session cookie Secure (it is whenever a request came over TLS via a trusted proxy)."""
    public_ops: bool = False
    """Serve /metrics and the API docs to anyone (the demo, tests); otherwise only to managers and
    admins, or to a caller on this machine (a local Prometheus)."""
    feedback_window: dt.timedelta = dt.timedelta(days=3)
    """How long after its service day a visit's status page (and its feedback form) still answers."""
    comment_retention: dt.timedelta = dt.timedelta(days=90)
    """How long residents' feedback comments are kept (the rating stays, for the KPI)."""
    device_stale: dt.timedelta = STALE
    """Silence after which a kiosk or display counts as offline (they report every minute)."""

    @property
    def database_path(self) -> Path:
        return database_path(self.data_dir, self.site)



def new_office(site: LoadedSite, settings: Settings) -> Office:
    return Office(site.rules, site.catalog, RandomIds(), enforce_hours=not settings.ignore_hours)


def build(settings: Settings, clock: Clock | None = None, publisher: Publisher | None = None) -> Services:
    site = load(settings.config_dir, settings.site)
    conn = connect(settings.database_path)
    writer_conn = connect(settings.database_path)  # the writer thread's own connection
    store = OfficeStore(conn, settings.site)
    office = new_office(site, settings)
    store.restore(office)
    clock = clock or SystemClock(site.config.timezone)
    keys = SiteKeys(settings.key_dir, settings.site)
    keys.check(settings.data_dir)
    keys.destroy_before(clock.now().date())  # today's key is made when the server first stores card data
    with transaction(conn):
        erased = CardVault.erase_closed(conn)  # whatever a crash left behind
    if erased:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()  # nobody else has the file open yet
    expire_comments(conn, clock.now() - settings.comment_retention)  # feedback comments past retention
    calls = CallLog(settings.site)
    calls.load(store, office)
    fanout = Fanout()  # the staff pages' live streams also hear of device health (service/devices.py)
    return Services(
        settings=settings, site=site, new_office=partial(new_office, site, settings),
        clock=clock, store=store,
        accounts=Accounts(conn), vault=CardVault(keys),
        office=office, publisher=publisher or NullPublisher(), calls=calls, seq=store.last_seq(),
        writer_conn=writer_conn, fanout=fanout,
        devices=DeviceRegistry(settings.device_stale, on_change=fanout.devices_changed),
    )
