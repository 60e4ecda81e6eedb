"""Erased means unrecoverable (issue 8.7, DESIGN §8): once a visit ends, its card data is in no file of
the data folder — database, WAL or anything else — not even sealed, and the key folder is elsewhere
and rotated daily."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from madoguchi.server.composition import Settings
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.ticket import Outcome
from madoguchi.server.storage.card_vault import DEFAULT_KEY_DIR, KEY_DIR_ENV, KeyFolderError, SiteKeys
from tests.api.conftest import make_api
from tests.live import wait_until
from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_BIRTH_DATE, TEST_HOLDER_NAME, TEST_HOLDER_SEX

CARD = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": TEST_HOLDER_BIRTH_DATE,
        "sex": TEST_HOLDER_SEX}
PLAIN = [TEST_HOLDER_NAME.encode(), TEST_HOLDER_ADDRESS.encode(), TEST_HOLDER_NAME.encode("utf-16-le"),
         TEST_HOLDER_BIRTH_DATE.encode()]
FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]{40,}={0,2}")


def every_file(*folders: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def recoverable(files: dict[Path, bytes], keys: list[bytes]) -> list[str]:
    """What an attacker with every file and every key could read back: plain items, or items in any
    Fernet token that opens with a key found (site keys, and data keys unwrapped with them)."""
    found = [f"{path.name}: plain {item!r}" for path, data in files.items() for item in PLAIN if item in data]
    # a token may run into the next column's bytes in a page: try every length a token can have
    tokens = {t[:n] for data in files.values() for t in FERNET_TOKEN.findall(data)
              for n in range(len(t) - len(t) % 4, 99, -4)}
    known = list(keys)
    progress = True
    while progress:  # unwrap data keys with site keys, then open sealed items with them
        progress = False
        for token in tokens:
            for key in list(known):
                try:
                    opened = Fernet(key).decrypt(token)
                except (InvalidToken, ValueError):
                    continue
                if any(item in opened for item in PLAIN):
                    found.append(f"sealed card data opened with a key found on disk: {token[:12]!r}")
                elif len(opened) == 44 and opened not in known:
                    known.append(opened)
                    progress = True
    return found


def end_the_visit(api, ticket_id: str) -> None:
    api.services.execute(lambda office, now, tx: office.call_next("c1", now))
    api.services.execute(lambda office, now, tx: office.start("c1", now))
    ended = api.services.execute(lambda office, now, tx: office.finish("c1", Outcome("done"), now))
    assert ended.id == ticket_id and not ended.is_open


def test_an_ended_visits_card_data_is_in_no_file_of_the_data_folder(tmp_path):
    data, key_dir = tmp_path / "data", tmp_path / "keys"
    api = make_api(data, key_dir=key_dir)
    try:
        issued = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "card": CARD})
        assert issued.status_code == 201
        ticket_id = issued.json()["id"]
        conn = api.services.store.conn
        assert api.services.vault.read(conn, ticket_id) == CARD, "the counter can read it while the visit lasts"
        keys = [p.read_bytes().strip() for p in key_dir.iterdir()]
        assert recoverable(every_file(data), []) == [], "the data folder alone never holds readable card data"
        assert not list(data.rglob("*.key")), "no key in the data folder"

        end_the_visit(api, ticket_id)
        assert api.services.vault.read(conn, ticket_id) is None
        writer = api.services._writer
        wait_until(lambda: writer.truncations >= 1, 10, "the WAL truncated after the erasure")
        files = every_file(data, key_dir)
        assert recoverable(files, keys) == []
        assert not [p for p, b in files.items() if b"mdg1:" in b], "not even the sealed record is left"
        wal = data / "chuo.sqlite3-wal"
        assert not wal.exists() or wal.stat().st_size < 4096 * 4, "the WAL was cut back"
    finally:
        api.services.close()
    # and after the server stopped (what a copy of the folder would hold)
    assert recoverable(every_file(data, key_dir), keys) == []


def test_card_data_left_by_a_crash_is_erased_and_truncated_at_start(tmp_path):
    data, key_dir = tmp_path / "data", tmp_path / "keys"
    api = make_api(data, key_dir=key_dir)
    try:
        ticket_id = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "card": CARD}).json()["id"]
        keys = [p.read_bytes().strip() for p in key_dir.iterdir()]
        # the visit ended on disk but the server died before erasing (simulated: status changed behind its back)
        api.services.store.conn.execute("UPDATE tickets SET status = 'done' WHERE id = ?", (ticket_id,))
    finally:
        api.services.close()
    again = make_api(data, key_dir=key_dir)
    try:
        assert again.services.vault.read(again.services.store.conn, ticket_id) is None
        assert recoverable(every_file(data, key_dir), keys) == []
    finally:
        again.services.close()


def test_the_site_key_lives_outside_the_data_folder_and_is_rotated_daily(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_DIR_ENV, raising=False)
    assert Settings(site="chuo", data_dir=tmp_path / "data").key_dir == DEFAULT_KEY_DIR
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "elsewhere"))
    assert Settings(site="chuo", data_dir=tmp_path / "data").key_dir == tmp_path / "elsewhere"
    with pytest.raises(KeyFolderError, match="inside the data folder"):
        make_api(tmp_path / "data", key_dir=tmp_path / "data" / "keys")

    key_dir = tmp_path / "keys"
    api = make_api(tmp_path / "data2", key_dir=key_dir)
    try:
        first_day = api.clock.now().date()
        assert not key_dir.exists() or not list(key_dir.iterdir()), \
            "opening the site makes no key (an administrator's command would make it root's)"
        ticket_id = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "card": CARD}).json()["id"]
        assert [p.name for p in key_dir.iterdir()] == [f"chuo.card.{first_day}.key"]
        record = bytes(api.services.store.conn.execute("SELECT ciphertext FROM card_data").fetchone()[0])
        api.clock.advance(minutes=24 * 60)
        api.services.execute(lambda office, now, tx: office.issue(IssueRequest(procedures=("juminhyo",)), now))
        api.services.vault.keys.rotate(api.clock.now().date())  # what the day keeper does
        next_day = first_day + dt.timedelta(days=1)
        assert [p.name for p in key_dir.iterdir()] == [f"chuo.card.{next_day}.key"], "yesterday's key is destroyed"
        assert api.services.vault.read(api.services.store.conn, ticket_id) is None
        assert api.services.vault.open(record) is None, "a copy of yesterday's record (a backup) opens no more"
    finally:
        api.services.close()


def test_a_key_folder_the_server_cannot_write_is_reported_clearly(tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    keys = SiteKeys(blocked / "keys", "chuo")
    with pytest.raises(KeyFolderError, match=KEY_DIR_ENV):
        keys.rotate(dt.date(2026, 12, 7))


def test_a_backup_holds_no_card_data_even_of_a_visit_still_open(tmp_path):
    from madoguchi.server.storage.database import backup

    data, key_dir = tmp_path / "data", tmp_path / "keys"
    api = make_api(data, key_dir=key_dir)
    try:
        ticket_id = api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"], "card": CARD}).json()["id"]
        backup(api.services.settings.database_path, tmp_path / "backups" / "chuo.sqlite3")
        assert api.services.vault.read(api.services.store.conn, ticket_id) == CARD, "the live visit keeps its card"
        keys = [p.read_bytes().strip() for p in key_dir.iterdir()]
    finally:
        api.services.close()
    copies = every_file(tmp_path / "backups")
    assert copies and recoverable(copies, keys) == []
    assert not [p for p, b in copies.items() if b"mdg1:" in b]


def test_a_server_whose_key_folder_is_unusable_stops_at_start_with_one_clear_line(tmp_path):
    import os
    import subprocess
    import sys

    from tests.live import free_port

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "madoguchi.server.cli.main", "serve", "--site", "chuo", "--no-mqtt",
         "--data-dir", str(tmp_path / "data"), "--port", str(free_port())],
        env={**os.environ, KEY_DIR_ENV: str(blocked / "keys")}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert KEY_DIR_ENV in last and "Traceback" not in done.stderr
