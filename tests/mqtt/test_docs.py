"""docs/mqtt.md shows payloads that are still valid for their topics (made by tests/mqtt/examples.py)."""

from __future__ import annotations

import re
from pathlib import Path

from madoguchi.common.protocol import parse_message
from tests.personal_data import leaked_in

DOC = Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"
EXAMPLE = re.compile(r"### `(madoguchi/[a-z0-9/_-]+)`\n\n```json\n(.*?)\n```", re.DOTALL)


def test_every_payload_example_in_the_doc_validates_against_its_topic():
    examples = EXAMPLE.findall(DOC.read_text(encoding="utf-8"))
    topics = [topic for topic, _ in examples]
    assert topics == ["madoguchi/chuo/state", "madoguchi/chuo/calls", "madoguchi/chuo/events",
                      "madoguchi/chuo/devices/server/status"]
    for topic, payload in examples:
        assert parse_message("chuo", topic, payload) is not None, topic
        assert leaked_in(payload) == []
