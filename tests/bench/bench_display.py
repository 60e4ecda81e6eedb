"""Display bench for `make bench`: REST call → frame drawn on a real display, idle CPU, memory under calls.

A live `madoguchi serve` and a real mosquitto (site ACL, per-device users); `madoguchi display` as its own
process (SDL off-screen, 1920×1080, --no-audio so speech does not share the two cores with the measure)
writing one JSON line per frame drawn. A second subscriber notes when each call message reaches a
display client, which is the MQTT share (the baseline: the display's own work is the rest).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

from madoguchi.common.protocol import CallPayload, StatePayload, calls_topic, state_topic
from madoguchi.server.mqtt.paho_publisher import PASSWORD_ENV
from tests.display.conftest import DisplayProcess, display_config
from tests.display.samples import call, state
from tests.live import LiveServer, wait_until
from tests.mqtt.broker import SERVER_USER, SITE, Recorder, start_site_broker
from tests.mqtt.conftest import recorder_for

CALLS = 60
IDLE_S = 30
MEMORY_CALLS = 3000  # an hour at ~50 calls a minute, far above a ward office's busiest hour


class TimedRecorder(Recorder):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()

    def _on_message(self, client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        now = time.time()
        if message.topic == calls_topic(SITE):
            with self.lock:
                self.arrived[CallPayload.model_validate_json(message.payload).number] = now
        super()._on_message(client, userdata, message)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _frames(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="madoguchi-bench-display-") as tmp:
        return _run(Path(tmp))


def _run(tmp: Path) -> str:
    load_before = os.getloadavg()[0]
    broker = start_site_broker(tmp / "broker")
    os.environ[PASSWORD_ENV] = broker.rendered.account(SERVER_USER).password
    server = LiveServer(tmp / "data")
    display = DisplayProcess(broker, tmp / "display", display_config(tmp), extra=("--no-audio", "--frame-log",
                                                                                  str(tmp / "frames.jsonl")))
    watcher = TimedRecorder(broker.port, "display-2", broker.rendered.account("display-2").password)
    try:
        server.prepare_accounts()
        server.start("--mqtt-host", "127.0.0.1", "--mqtt-port", str(broker.port))
        display.start()
        display.wait_screen(lambda s: s["trusted"], 30, "the live board")
        watcher.connect(calls_topic(SITE))
        latency, mqtt_share, draw = _latency(server, watcher, tmp / "frames.jsonl")
        idle_cpu = _idle_cpu(display)
        server.stop()  # from here on the broker's server user feeds the display alone
        rss = _memory(broker, display)
    finally:
        watcher.disconnect()
        display.stop()
        server.stop()
        broker.stop()
        os.environ.pop(PASSWORD_ENV, None)

    lines = [
        "## Display (`madoguchi display`)",
        "",
        "`.venv/bin/python -m tests.bench.run bench_display`: a live server and mosquitto on this machine, the "
        "display as its own process (SDL off-screen, 1920×1080, `--no-audio`), one JSON line per frame drawn. "
        f"{CALLS} calls through `POST /counters/c1/call-next`, one at a time. Machine load average when it "
        f"began: {load_before:.1f} (2 cores shared with whatever else runs: the tail moves with it).",
        "",
        "| measure | p50 | p99 | max |",
        "|---|---|---|---|",
        f"| REST call → frame drawn (ms) | {_pct(latency, .5):.0f} | {_pct(latency, .99):.0f} | {max(latency):.0f} |",
        f"| of which MQTT: REST call → call message at a subscriber (ms, baseline) | {_pct(mqtt_share, .5):.0f} | "
        f"{_pct(mqtt_share, .99):.0f} | {max(mqtt_share):.0f} |",
        f"| of which drawing the frame and flipping it (ms) | {_pct(draw, .5):.0f} | {_pct(draw, .99):.0f} | "
        f"{max(draw):.0f} |",
        "",
        f"Idle display (board shown, languages turning every 8 s, no calls) for {IDLE_S} s: "
        f"**{idle_cpu:.1f} % of one core**.",
        "",
        f"Memory (RSS) while {MEMORY_CALLS} calls and a state every 10 calls arrive as fast as the display takes "
        "them (published by the server's broker user, no audio):",
        "",
        "| calls received | " + " | ".join(str(n) for n, _ in rss) + " |",
        "|---" * (len(rss) + 1) + "|",
        "| RSS (MB) | " + " | ".join(f"{mb:.1f}" for _, mb in rss) + " |",
    ]
    return "\n".join(lines)


def _latency(server: LiveServer, watcher: TimedRecorder, frame_log: Path) -> tuple[list[float], list[float],
                                                                                   list[float]]:
    latency, mqtt_share, draw = [], [], []
    with server.client("kiosk") as kiosk, server.client("counter") as staff:
        for _ in range(CALLS):
            assert kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).status_code == 201
        for _ in range(CALLS):
            seen = len(_frames(frame_log))
            started = time.time()
            answer = staff.post("/api/v1/counters/c1/call-next")
            assert answer.status_code == 200, answer.text
            ticket = answer.json()["ticket"]
            number = ticket["display_number"]

            def drawn(number: str = number, seen: int = seen) -> dict | None:
                for frame in _frames(frame_log)[seen:]:
                    if frame["main"] and frame["main"]["number"] == number:
                        return frame
                return None

            frame = wait_until(drawn, 10, f"frame with {number}", interval_s=0.01)
            latency.append((frame["drawn_at"] - started) * 1000)
            draw.append(frame["draw_ms"])
            arrived = wait_until(lambda n=ticket["number"]: watcher.arrived.get(n), 5, "call message")
            mqtt_share.append((arrived - started) * 1000)
            assert staff.post("/api/v1/counters/c1/no-show").status_code == 200  # free the counter
            time.sleep(0.2)
    return latency, mqtt_share, draw


def _idle_cpu(display: DisplayProcess) -> float:
    assert display.process is not None
    pid = display.process.pid
    time.sleep(2)
    before, t0 = _cpu_s(pid), time.monotonic()
    time.sleep(IDLE_S)
    return 100 * (_cpu_s(pid) - before) / (time.monotonic() - t0)


def _memory(broker, display: DisplayProcess) -> list[tuple[int, float]]:
    assert display.process is not None
    pid = display.process.pid
    server = recorder_for(broker, SERVER_USER).connect()
    base = 1_000_000
    samples = [(0, _rss_mb(pid))]
    try:
        for i in range(1, MEMORY_CALLS + 1):
            payload: CallPayload | StatePayload = call(base + i, 1 + i % 299, 1 + i % 9, band="simple")
            server.publish(calls_topic(SITE), payload.model_dump_json())
            if i % 10 == 0:
                server.publish(state_topic(SITE), state(base + i).model_dump_json(), retain=True)
            if i % 500 == 0:
                wait_until(lambda n=base + i: (display.screen() or {}).get("state_seq") == n, 30, "display caught up",
                           interval_s=0.1)
                samples.append((i, _rss_mb(pid)))
            if i % 50 == 0:
                time.sleep(0.05)
    finally:
        server.disconnect()
    return samples
