"""What the server publishes: the retained state, one message per call, anonymised events, nothing personal."""

from __future__ import annotations

import json
import math
import time

from madoguchi.common.protocol import (
    CallPayload,
    EventPayload,
    StatePayload,
    calls_topic,
    events_topic,
    parse_message,
    site_filter,
    state_topic,
)
from madoguchi.server.mqtt.paho_publisher import MqttPublisher
from tests.api.conftest import make_api
from tests.live import wait_until
from tests.mqtt.broker import SITE, latest_state_with_seq
from tests.mqtt.conftest import recorder_for, server_settings
from tests.personal_data import (
    TEST_HOLDER_ADDRESS,
    TEST_HOLDER_BIRTH_DATE,
    TEST_HOLDER_NAME,
    TEST_HOLDER_SEX,
    leaked_in,
)

CARD = {"name": TEST_HOLDER_NAME, "address": TEST_HOLDER_ADDRESS, "birth_date": TEST_HOLDER_BIRTH_DATE,
        "sex": TEST_HOLDER_SEX}
STATE, CALLS, EVENTS = state_topic(SITE), calls_topic(SITE), events_topic(SITE)


def issue(api, body=None) -> dict:
    response = api.post("/api/v1/tickets", "kiosk", json=body or {"procedures": ["juminhyo"]})
    assert response.status_code == 201, response.text
    return response.json()


def call_next(api, counter: str = "c1") -> dict:
    response = api.post(f"/api/v1/counters/{counter}/call-next", "counter")
    assert response.status_code == 200, response.text
    return response.json()


def test_retained_state_after_a_ticket_is_issued_is_what_get_state_answers(site):
    watcher = site.client("display-1", STATE)
    issue(site.api)
    seq = site.api.services.seq
    watcher.wait_for(latest_state_with_seq(STATE, seq), what=f"state with seq {seq}")

    late = site.client("display-2", STATE)  # connects afterwards: gets the retained copy at once
    first = late.wait_for(lambda messages: messages[0] if messages else None, what="retained state")
    assert first.retain
    assert first.json() == site.api.get("/api/v1/state", "display").json()
    assert sum(band["waiting"] for band in first.json()["bands"]) == 1
    assert isinstance(parse_message(SITE, first.topic, first.payload), StatePayload)


def test_a_call_produces_exactly_one_calls_message_with_number_and_counter_label(site):
    display = site.client("display-1", CALLS, STATE)
    ticket = issue(site.api)
    called = call_next(site.api, "c1")
    assert called["ticket"]["id"] == ticket["id"]
    call_seq = site.api.services.seq
    # Barrier: the server sends a commit's call before the state of that commit, and the broker keeps
    # one publisher's order, so once the state of a later commit is here, every call before it is too.
    issue(site.api)
    display.wait_for(latest_state_with_seq(STATE, site.api.services.seq), what="state after the call")

    calls = display.on(CALLS)
    assert len(calls) == 1, [c.json() for c in calls]
    call = CallPayload.model_validate_json(calls[0].payload)
    assert not calls[0].retain
    assert call.number == ticket["number"] and call.display_number == ticket["display_number"]
    assert call.counter == "c1"
    assert call.counter_label == dict(site.api.services.office.counters["c1"].label)
    assert call.recall is False and call.seq <= call_seq and call.band == ticket["band"]

    site.api.post("/api/v1/counters/c1/recall", "counter")
    recall = display.wait_for(lambda _: display.on(CALLS)[1:], what="the recall")[0]
    assert json.loads(recall.payload)["recall"] is True
    assert json.loads(recall.payload)["seq"] > call.seq


def test_events_are_anonymised_and_numbered_like_the_event_log(site):
    display = site.client("display-1", EVENTS)
    ticket = issue(site.api, {"procedures": ["juminhyo"], "card": CARD})
    call_next(site.api, "c1")
    last_seq = site.api.services.seq
    display.wait_for(lambda _: [m for m in display.on(EVENTS) if m.json()["seq"] == last_seq],
                     what=f"event {last_seq}")

    events = [EventPayload.model_validate_json(m.payload) for m in display.on(EVENTS)]
    assert {"issued", "called"} <= {e.kind for e in events}
    rows = site.api.services.store.conn.execute("SELECT seq, kind, counter_id FROM events ORDER BY seq").fetchall()
    assert [(e.seq, e.kind, e.counter) for e in events] == [tuple(r) for r in rows]
    for message in display.on(EVENTS):
        assert set(message.json()) == {"v", "seq", "site", "at", "kind", "band", "procedure", "counter"}
        assert ticket["id"] not in message.payload.decode()


def test_no_payload_ever_carries_the_card_holder_or_a_ticket_token(site):
    everything = site.client("display-1", site_filter(SITE))
    tickets = [issue(site.api, {"procedures": ["juminhyo"], "card": CARD}),
               issue(site.api, {"life_event": "tennyu", "answers": {"household": [{"age": 40, "relation": "self"}]},
                                "card": CARD})]
    call_next(site.api, "c1")
    site.api.post("/api/v1/counters/c1/start", "counter")
    site.api.post("/api/v1/counters/c1/finish", "counter", json={"outcome": "done"})
    call_next(site.api, "c2")
    everything.wait_for(latest_state_with_seq(STATE, site.api.services.seq), what="the final state")

    text = "\n".join(m.payload.decode() for m in everything.messages)
    assert {m.topic for m in everything.messages} >= {STATE, CALLS, EVENTS}
    assert leaked_in(text) == []
    assert TEST_HOLDER_BIRTH_DATE.replace("-", "") not in text
    for ticket in tickets:
        token = ticket["status_url"].rstrip("/").rsplit("/", 1)[-1]
        assert ticket["id"] not in text and token not in text


def test_a_burst_of_commits_becomes_few_state_updates_ending_with_the_newest(tmp_path, broker):
    interval_s = 2.0  # long beside 20 in-process requests, so the coalescing shows on a loaded machine too
    publisher = MqttPublisher(SITE, server_settings(broker, state_interval_s=interval_s))
    api = make_api(tmp_path / "data", publisher=publisher)
    try:
        publisher.start(api.services.state, api.services.clock.now)
        wait_until(lambda: publisher.connected and publisher.state_publishes >= 1, 10, "first state")
        before = publisher.state_publishes
        started = time.monotonic()
        for _ in range(20):
            issue(api)
        elapsed = time.monotonic() - started
        wait_until(lambda: publisher.state_publishes > before, 5, "a state after the burst")
        final_seq = api.services.seq
        late = recorder_for(broker, "display-1").connect(STATE)
        try:
            state = late.wait_for(latest_state_with_seq(STATE, final_seq), what="the newest state")
        finally:
            late.disconnect()
        assert state["seq"] == final_seq
        states = publisher.state_publishes - before
        assert states <= math.ceil(elapsed / interval_s) + 2, f"{states} states for 20 commits in {elapsed:.1f} s"
        assert states < 20, "every commit got its own state"
    finally:
        api.services.close()


def test_the_state_is_refreshed_without_commits_because_estimates_move_with_time(tmp_path, broker):
    publisher = MqttPublisher(SITE, server_settings(broker, refresh_interval_s=0.3))
    api = make_api(tmp_path / "data", publisher=publisher)
    try:
        publisher.start(api.services.state, api.services.clock.now)
        issue(api)
        later = api.advance(minutes=7)
        display = recorder_for(broker, "display-1").connect(STATE)
        try:
            display.wait_for(lambda messages: [m for m in messages
                                               if StatePayload.model_validate_json(m.payload).at == later],
                             what="a state stamped with the advanced clock")
        finally:
            display.disconnect()
    finally:
        api.services.close()


def test_every_event_of_a_batched_commit_keeps_the_seq_of_its_own_log_row(site):
    """200 issues and a few calls committed in one batch: MQTT carries seqs 1..N, each once, like the log."""
    from tests.api.test_refusals import database_held, kiosk_ticket

    display = site.client("display-1", EVENTS, CALLS)
    services = site.api.services
    with database_held(site.api):  # the writer waits, so everything applied meanwhile is one batch
        applied = [kiosk_ticket(site.api, {"procedures": ["juminhyo"]}, f"burst-{i}") for i in range(200)]
        applied += [services.apply(lambda office, now, tx, c=c: office.call_next(c, now)) for c in ("c1", "c2")]
    for _, committed in applied:
        assert committed is not None
        committed.result(10)
    assert services._writer.largest_batch > 100, "the commands were not batched"

    rows = services.store.conn.execute("SELECT seq, kind, number FROM events ORDER BY seq").fetchall()
    last_seq = rows[-1][0]
    display.wait_for(lambda _: len(display.on(EVENTS)) >= len(rows) and len(display.on(CALLS)) >= 2,
                     what=f"{len(rows)} events and 2 calls")
    seqs = [m.json()["seq"] for m in display.on(EVENTS)]
    assert seqs == [r[0] for r in rows] == list(range(1, last_seq + 1)), "each event once, with its own seq"
    assert [m.json()["kind"] for m in display.on(EVENTS)] == [r[1] for r in rows]
    called = {r[0]: r[2] for r in rows if r[1] == "called"}
    calls = [CallPayload.model_validate_json(m.payload) for m in display.on(CALLS)]
    assert {c.seq: c.number for c in calls} == called, "each call carries the seq of its own 'called' row"
    assert services.seq == last_seq
