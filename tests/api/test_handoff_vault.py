"""The 住民異動届 hand-off in the card vault (DESIGN §8): sealed with the visit's own data key beside its
card data, taken once, never in a backup, and gone from every file with the visit."""

from __future__ import annotations

from madoguchi.server.core.ticket import Outcome
from madoguchi.server.storage.database import backup, connect_read_only
from tests.api.conftest import make_api
from tests.api.test_erasure import CARD, every_file, recoverable
from tests.live import wait_until

NEW_ADDRESS = "熊本県熊本市中央区桜町９番９号"
FORM = {"fields": {"name": CARD["name"], "old_address": CARD["address"], "new_address": NEW_ADDRESS}}


def finish_next(api) -> str:
    api.services.execute(lambda office, now, tx: office.call_next("c1", now))
    api.services.execute(lambda office, now, tx: office.start("c1", now))
    ended = api.services.execute(lambda office, now, tx: office.finish("c1", Outcome("done"), now))
    assert not ended.is_open
    return ended.id


def test_a_handoff_is_taken_once_kept_out_of_backups_and_erased_with_its_visit(tmp_path):
    data, key_dir = tmp_path / "data", tmp_path / "keys"
    api = make_api(data, key_dir=key_dir)
    try:
        issue = {"procedures": ["juminhyo"], "card": CARD}
        taken, kept = (api.post("/api/v1/tickets", "kiosk", json=issue).json()["id"] for _ in range(2))
        vault, conn = api.services.vault, api.services.store.conn
        assert vault.handoff_state(conn, taken) == "none"
        assert vault.take_handoff(conn, taken) == ("none", None), "nothing to take before it is confirmed"
        assert vault.seal_handoff(conn, taken, FORM) == "none"
        assert vault.seal_handoff(conn, taken, FORM) == "confirmed", "confirmed again: replaced"
        assert vault.seal_handoff(conn, kept, FORM) == "none"
        assert vault.read(conn, taken) == CARD, "the card data is intact beside it"
        assert not [p for p, raw in every_file(data).items() if NEW_ADDRESS.encode() in raw], "sealed, never plain"

        assert vault.take_handoff(conn, taken) == ("confirmed", FORM)
        assert vault.take_handoff(conn, taken) == ("taken", None), "once"
        assert vault.seal_handoff(conn, taken, FORM) == "taken", "and not confirmed again afterwards"
        assert vault.handoff_state(conn, kept) == "confirmed"
        assert vault.handoff_state(conn, "no-such-visit") is None

        copy = tmp_path / "backup.sqlite3"
        backup(data / "chuo.sqlite3", copy)
        copied = connect_read_only(copy)
        try:
            assert copied.execute("SELECT count(*) FROM card_data").fetchone()[0] == 0
        finally:
            copied.close()
        assert b"mdg1:" not in copy.read_bytes(), "no backup holds a hand-off"

        keys = [p.read_bytes().strip() for p in key_dir.iterdir()]
        assert {finish_next(api), finish_next(api)} == {taken, kept}
        assert vault.handoff_state(conn, kept) is None
        # each erasure is followed by a checkpoint and a cut WAL: wait for the last one
        wait_until(lambda: recoverable(every_file(data, key_dir), keys) == [], 10, "both visits' records erased")
        files = every_file(data, key_dir)
        assert not [p for p, raw in files.items() if b"mdg1:" in raw or NEW_ADDRESS.encode() in raw]
    finally:
        api.services.close()
