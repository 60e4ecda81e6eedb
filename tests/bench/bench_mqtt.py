"""MQTT bench for `make bench`: how long from a counter's call to the call message at a display.

A real mosquitto (rendered with the site's ACL and password file) on 127.0.0.1, the in-process API with
the real ``MqttPublisher`` (default settings), and displays subscribed as their own broker users.
Returns a markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from madoguchi.common.protocol import CallPayload, calls_topic, state_topic
from madoguchi.server.mqtt.paho_publisher import MqttPublisher, MqttSettings
from madoguchi.server.mqtt.port import Commit
from tests.api.conftest import make_api
from tests.live import wait_until
from tests.mqtt.broker import SERVER_USER, SITE, Mosquitto, Recorder, start_site_broker

CALLS = 200
DISPLAY_COUNTS = (1, 10)


class TimedPublisher(MqttPublisher):
    """Notes when each call is handed over (right after its commit, under the office lock)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.handed_over: dict[int, float] = {}

    def changed(self, commit: Commit) -> None:
        now = time.perf_counter()
        for call in commit.calls:
            self.handed_over[call.seq] = now
        super().changed(commit)


class TimedDisplay(Recorder):
    """Notes when each call message arrives (in paho's network thread, before any display work)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()

    def _on_message(self, client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        now = time.perf_counter()
        if message.topic == calls_topic(SITE):
            seq = CallPayload.model_validate_json(message.payload).seq
            with self.lock:
                self.arrived[seq] = now
        super()._on_message(client, userdata, message)


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


def _measure(directory: Path, broker: Mosquitto | None, displays: int) -> dict[str, list[float]]:
    """Timings of CALLS calls; without a broker, the baseline: the same requests with no MQTT at all."""
    publisher = None
    if broker is not None:
        publisher = TimedPublisher(SITE, MqttSettings(port=broker.port, username=SERVER_USER,
                                                      password=broker.rendered.account(SERVER_USER).password))
    api = make_api(directory, publisher=publisher)
    screens: list[TimedDisplay] = []
    try:
        if publisher is not None and broker is not None:
            publisher.start(api.services.state, api.services.clock.now)
            wait_until(lambda: publisher.connected, 10, "the server's connection")
        for i in range(displays):
            account = broker.rendered.account(f"display-{1 + i % 2}")
            screen = TimedDisplay(broker.port, account.username, account.password, client_id=f"bench-display-{i}")
            screens.append(screen.connect(calls_topic(SITE), state_topic(SITE)))
        for _ in range(CALLS):
            assert api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]}).status_code == 201
        requested: dict[int, float] = {}
        request_s: list[float] = []
        for _ in range(CALLS):
            started = time.perf_counter()
            response = api.post("/api/v1/counters/c1/call-next", "counter")
            request_s.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.json()["ticket"], response.text
            seq = api.services.calls.recent()[0].seq
            requested[seq] = started
            for screen in screens:
                wait_until(lambda s=screen, q=seq: q in s.arrived, 10, f"call {seq}", interval_s=0.0005)
            api.post("/api/v1/counters/c1/start", "counter")
            api.post("/api/v1/counters/c1/finish", "counter", json={"outcome": "done"})
        handed_over = publisher.handed_over if publisher is not None else {}
        commit_to_display = [s.arrived[q] - handed_over[q] for s in screens for q in requested]
        request_to_display = [s.arrived[q] - requested[q] for s in screens for q in requested]
        return {"request": request_s, "commit_to_display": commit_to_display, "request_to_display": request_to_display}
    finally:
        for screen in screens:
            screen.disconnect()
        api.services.close()


def run() -> str:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        baseline = _percentiles(_measure(Path(scratch) / "data-baseline", None, 0)["request"])
        rows.append(f"| none (`--no-mqtt`) | – | – | – | – | {baseline[0]:.2f} | {baseline[1]:.2f} |")
        broker = start_site_broker(Path(scratch) / "broker")
        try:
            for count in DISPLAY_COUNTS:
                result = _measure(Path(scratch) / f"data-{count}", broker, count)
                request = _percentiles(result["request"])
                commit = _percentiles(result["commit_to_display"])
                end_to_end = _percentiles(result["request_to_display"])
                rows.append(f"| {count} | {commit[0]:.2f} | {commit[1]:.2f} | {end_to_end[0]:.2f} | "
                            f"{end_to_end[1]:.2f} | {request[0]:.2f} | {request[1]:.2f} |")
        finally:
            broker.stop()
    lines = [
        "## MQTT: from a call to the call message at a display",
        "",
        "Command: `make bench` (or `.venv/bin/python -m tests.bench.run bench_mqtt`). mosquitto 2.0 on "
        "127.0.0.1 with the site's ACL and password file, the in-process API (SQLite, fsync) publishing through "
        f"`MqttPublisher` with default settings, MQTT v5, QoS 1. {CALLS} calls (`call-next`, then start and "
        "finish) per row; each display is its own broker client. *Commit → display*: from the moment the "
        "committed call is handed to the publisher to its arrival in the display's network thread (publisher "
        "thread, paho, broker). *Request → display*: from the start of the counter's `call-next` request. "
        "*Request*: the request's own duration, which does not wait for MQTT; the first row is the baseline, the "
        "same requests with no publisher at all.",
        "",
        "| displays | commit → display p50 ms | p99 ms | request → display p50 ms | p99 ms | request p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "The retained state follows each change after at most `state_interval_s` (0.25 s) — it is coalesced, "
        "the call message is not.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
