"""Example payloads for docs/mqtt.md, made by the real code path (API, commit, publisher's message builder).

`.venv/bin/python -m tests.mqtt.examples` prints them; paste into docs/mqtt.md on purpose.
tests/mqtt/test_docs.py checks that every example in the doc is still a valid payload of its topic.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from madoguchi.common.protocol import DeviceStatusPayload, calls_topic, events_topic
from madoguchi.server.mqtt.paho_publisher import Outgoing, commit_messages
from madoguchi.server.mqtt.port import Commit
from tests.api.conftest import make_api

SITE = "chuo"


class CapturingPublisher:
    """Records what MqttPublisher would send for each commit, without a broker."""

    def __init__(self) -> None:
        self.messages: list[Outgoing] = []

    def changed(self, commit: Commit) -> None:
        self.messages += commit_messages(SITE, commit)

    def close(self) -> None:
        return None


def examples() -> dict[str, str]:
    """topic → pretty JSON of one example payload (the state cut to one band and one counter, for brevity)."""
    capture = CapturingPublisher()
    with tempfile.TemporaryDirectory() as scratch:
        api = make_api(Path(scratch), publisher=capture)
        try:
            for _ in range(3):
                api.post("/api/v1/tickets", "kiosk", json={"procedures": ["juminhyo"]})
            api.advance(minutes=3)
            api.post("/api/v1/counters/c1/call-next", "counter")
            state = json.loads(api.services.state().model_dump_json())
            status = DeviceStatusPayload(device="server", online=True, at=api.clock.now())
        finally:
            api.services.close()
    state["bands"], state["counters"] = state["bands"][:1], state["counters"][:1]
    call = next(m for m in capture.messages if m.topic == calls_topic(SITE))
    event = next(m for m in capture.messages if m.topic == events_topic(SITE))
    return {
        "state": json.dumps(state, ensure_ascii=False, indent=2),
        "calls": json.dumps(json.loads(call.payload), ensure_ascii=False, indent=2),
        "events": json.dumps(json.loads(event.payload), ensure_ascii=False, indent=2),
        "devices/server/status": json.dumps(json.loads(status.model_dump_json()), ensure_ascii=False, indent=2),
    }


if __name__ == "__main__":
    for topic, text in examples().items():
        print(f"### `madoguchi/{SITE}/{topic}`\n\n```json\n{text}\n```\n")
