"""`madoguchi replay` on a database a live server wrote: the same day replayed, then with another staffing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from madoguchi.server.cli.main import main
from madoguchi.server.storage.database import database_path
from madoguchi.server.storage.day_export import read_day
from tests.live import LiveServer

TOLERANCE_MIN = 0.5  # mean |difference| of the first waits between the day and its replay


@pytest.fixture(scope="module")
def day_on_a_live_server(tmp_path_factory):
    """Four visits issued, called, started and finished through the HTTP API of a live server."""
    data = tmp_path_factory.mktemp("replay") / "data"
    server = LiveServer(data)
    server.prepare_accounts()
    server.start()
    try:
        guide, counter, kiosk = server.client("guide"), server.client("counter"), server.client("kiosk")
        for other in ("c2", "c3", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13"):
            assert guide.patch(f"/api/v1/counters/{other}", json={"state": "closed"}).status_code == 200
        for i in range(3):
            assert kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]},
                              headers={"Idempotency-Key": f"r{i}"}).status_code == 201
        assert kiosk.post("/api/v1/tickets", json={"life_event": "tenkyo", "answers": {}},
                          headers={"Idempotency-Key": "r-move"}).status_code == 201
        for where, visits in (("c1", 3), ("c4", 1)):
            for _ in range(visits):
                assert counter.post(f"/api/v1/counters/{where}/call-next").json()["ticket"] is not None
                assert counter.post(f"/api/v1/counters/{where}/start").status_code == 200
                for _ in range(4):  # bounded: a visit has at most a few steps here
                    done = counter.post(f"/api/v1/counters/{where}/finish", json={"outcome": "done"}).json()
                    if done["ticket"]["status"] != "serving":
                        break
                assert done["ticket"]["status"] == "done"
    finally:
        server.stop()
    return data, dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()


def test_the_day_reads_back_as_plain_rows_without_personal_data(day_on_a_live_server):
    data, day = day_on_a_live_server
    rows = read_day(database_path(data, "chuo"), "chuo", day)
    assert [r.band for r in rows] == ["simple", "simple", "simple", "onestop"]
    assert all(r.status == "done" and r.first_called_at is not None for r in rows)
    assert all(s.started_at and s.finished_at and s.counter_id in ("c1", "c4") for r in rows for s in r.steps)
    fields = set(type(rows[0]).__dataclass_fields__) | set(type(rows[0].steps[0]).__dataclass_fields__)
    assert not fields & {"name", "address", "birth_date", "card", "token"}


def test_replaying_the_day_under_its_own_policy_reproduces_its_waits(day_on_a_live_server, capsys):
    data, day = day_on_a_live_server
    assert main(["replay", "--site", "chuo", "--data-dir", str(data), "--day", day.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "as it happened" in out and "balanced" in out
    gap = float(out.rsplit("first waits ", 1)[1].split(" min")[0])
    assert gap <= TOLERANCE_MIN


def test_one_more_counter_and_another_policy_are_replayed_on_the_same_residents(day_on_a_live_server, capsys):
    data, day = day_on_a_live_server
    assert main(["replay", "--site", "chuo", "--data-dir", str(data), "--day", day.isoformat(),
                 "--policy", "balanced", "--policy", "fifo", "--add-counter", "simple@00:00"]) == 0
    out = capsys.readouterr().out
    assert "simple from 00:00" in out
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| balanced") or line.startswith("| fifo")]
    assert len(rows) == 2 and all(r[2].strip() == "4" for r in rows)


def test_bad_input_is_one_line(day_on_a_live_server, tmp_path, capsys):
    data, day = day_on_a_live_server
    assert main(["replay", "--data-dir", str(data), "--day", day.isoformat(), "--add-counter", "lounge@10:00"]) == 2
    assert "lounge" in capsys.readouterr().err
    assert main(["replay", "--data-dir", str(data), "--day", "2001-01-01"]) == 2
    assert "no visits" in capsys.readouterr().err
    assert main(["replay", "--data-dir", str(tmp_path / "none"), "--day", day.isoformat()]) == 2
    assert "no database" in capsys.readouterr().err


def test_a_queue_of_one_counter_replays_exactly_and_a_second_counter_shortens_it():
    """Three certificates at 9:00, 9:01 and 9:02, ten minutes each, at one counter: called at 9:00, 9:10,
    9:20. The replay gives the same waits (0, 9, 18); with one more simple counter, 0, 0 and 8."""
    from madoguchi.server.simulate import replay
    from madoguchi.server.storage.day_export import StepRow, VisitRow
    from tests.factories import chuo

    tokyo = ZoneInfo("Asia/Tokyo")
    day = dt.date(2026, 6, 9)

    def at(minute: float) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(9), tzinfo=tokyo) + dt.timedelta(minutes=minute)

    rows = [VisitRow(f"t{i}", "simple", None, at(i), at(10 * i), "done", False, False,
                     (StepRow("juminhyo", "done", "c1", at(10 * i), at(10 * i + 10)),)) for i in range(3)]
    assert replay.recorded_waits(rows) == [0.0, 9.0, 18.0]
    site = chuo()
    (same,) = replay.replay(site.rules, site.catalog, rows, day, ["balanced"])
    assert replay.first_waits(same.day) == pytest.approx([0.0, 9.0, 18.0], abs=1e-6)
    early = [replay.ExtraCounter.parse("simple@08:00")]
    (more,) = replay.replay(site.rules, site.catalog, rows, day, ["balanced"], early)
    assert replay.first_waits(more.day) == pytest.approx([0.0, 0.0, 8.0], abs=1e-6)
    later = [replay.ExtraCounter.parse("simple@09:15")]
    (late,) = replay.replay(site.rules, site.catalog, rows, day, ["balanced"], later)
    assert replay.first_waits(late.day) == pytest.approx([0.0, 9.0, 13.0], abs=1e-6)
