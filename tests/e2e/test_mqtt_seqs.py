"""Many kiosks at once against a real server and broker: every event reaches MQTT once, with the seq
of its own row in the event log (issue 8.4; before, a batched commit sent all its events with the
batch's last seq, and an aggregator de-duplicating by seq kept one of them)."""

from __future__ import annotations

import sqlite3
import threading

import httpx

from madoguchi.common.protocol import events_topic
from madoguchi.server.mqtt.paho_publisher import PASSWORD_ENV
from tests.live import LiveServer
from tests.mqtt.broker import SERVER_USER, SITE
from tests.mqtt.conftest import broker, recorder_for  # noqa: F401 - the broker fixture

CLIENTS, EACH = 24, 10
EVENTS = events_topic(SITE)


def test_concurrent_issues_reach_mqtt_with_the_logs_seqs_each_once(tmp_path, broker, monkeypatch):  # noqa: F811
    monkeypatch.setenv(PASSWORD_ENV, broker.rendered.account(SERVER_USER).password)
    server = LiveServer(tmp_path / "data")
    server.prepare_accounts()
    aggregator = recorder_for(broker, "display-1").connect(EVENTS)
    answered: list[int] = []
    try:
        server.start("--mqtt-host", "127.0.0.1", "--mqtt-port", str(broker.port))

        def kiosk(index: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30,
                              headers={"Authorization": f"Bearer {server.tokens['kiosk']}"}) as client:
                for n in range(EACH):
                    response = client.post("/api/v1/tickets", json={"procedures": ["juminhyo"]},
                                           headers={"Idempotency-Key": f"k{index}-{n}"})
                    answered.append(response.status_code)

        threads = [threading.Thread(target=kiosk, args=(i,), name=f"kiosk-{i}") for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert answered.count(201) == CLIENTS * EACH, sorted(set(answered))
        db = sqlite3.connect(server.data_dir / "chuo.sqlite3")
        logged = [row[0] for row in db.execute("SELECT seq FROM events ORDER BY seq")]
        db.close()
        aggregator.wait_for(lambda _: len(aggregator.on(EVENTS)) >= len(logged), timeout_s=30,
                            what=f"{len(logged)} events")
    finally:
        aggregator.disconnect()
        server.stop()
    seqs = [m.json()["seq"] for m in aggregator.on(EVENTS)]
    assert len(logged) >= CLIENTS * EACH
    assert sorted(seqs) == logged == list(range(1, len(logged) + 1)), "each event once, with its own seq"
    assert len(set(seqs)) == len(seqs)
