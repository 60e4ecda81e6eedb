"""Connection lifecycle: birth and last will, broker outages, reconnecting displays, refused credentials."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from madoguchi.common.protocol import (
    CallPayload,
    SeenCalls,
    StatePayload,
    calls_topic,
    device_status_topic,
    events_topic,
    parse_message,
    server_status_topic,
    state_topic,
)
from madoguchi.server.cli.main import build_parser
from madoguchi.server.mqtt import paho_publisher as mqtt_publisher
from madoguchi.server.mqtt.paho_publisher import PASSWORD_ENV, MqttPublisher
from tests.api.conftest import make_api
from tests.live import LiveServer, wait_until
from tests.mqtt.broker import SERVER_USER, SITE, latest_state_with_seq, start_site_broker
from tests.mqtt.conftest import recorder_for, server_settings
from tests.mqtt.test_publishing import call_next, issue

STATE, CALLS, SERVER_STATUS = state_topic(SITE), calls_topic(SITE), server_status_topic(SITE)
EVENTS = events_topic(SITE)
HANG_GUARD_S = 30  # not a timing: 17 in-process requests take well under a second


def status_is(online: bool):
    def check(messages) -> bool:
        statuses = [m.json() for m in messages if m.topic == SERVER_STATUS]
        return bool(statuses) and statuses[-1]["online"] is online
    return check


def test_the_server_is_online_while_connected_and_offline_after_a_clean_shutdown(tmp_path, broker):
    publisher = MqttPublisher(SITE, server_settings(broker))
    api = make_api(tmp_path / "data", publisher=publisher)
    watcher = recorder_for(broker, "display-1").connect(SERVER_STATUS)
    try:
        publisher.start(api.services.state, api.services.clock.now)
        watcher.wait_for(status_is(True), what="birth: online true")
        api.services.close()
        watcher.wait_for(status_is(False), what="offline on close")
    finally:
        watcher.disconnect()
        api.services.close()
    late = recorder_for(broker, "display-2").connect(SERVER_STATUS)
    try:
        retained = late.wait_for(lambda messages: messages[:1], what="retained status")[0]
        assert retained.retain and retained.json()["online"] is False and retained.json()["device"] == "server"
    finally:
        late.disconnect()


def test_last_will_marks_the_server_offline_when_its_process_is_killed(tmp_path, broker, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, broker.rendered.account(SERVER_USER).password)
    server = LiveServer(tmp_path / "data")
    server.prepare_accounts()
    display = recorder_for(broker, "display-1").connect(SERVER_STATUS, STATE)
    try:
        server.start("--mqtt-host", "127.0.0.1", "--mqtt-port", str(broker.port))
        display.wait_for(status_is(True), what="the server's birth message")
        with server.client("kiosk") as kiosk:
            assert kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).status_code == 201
            expected = kiosk.get("/api/v1/state").json()
        display.wait_for(latest_state_with_seq(STATE, expected["seq"]), what="the state of the live server")
        server.kill()
        display.wait_for(status_is(False), timeout_s=10, what="the last will")
        will = [m for m in display.messages if m.topic == SERVER_STATUS][-1]
        assert will.json()["device"] == "server"
    finally:
        display.disconnect()
        server.stop()


def test_serve_publishes_by_default():
    default = build_parser().parse_args(["serve"])
    assert default.mqtt is True and default.mqtt_host is None and default.mqtt_port is None


def test_no_mqtt_keeps_the_server_off_the_broker_even_when_given_its_port(tmp_path, broker, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, broker.rendered.account(SERVER_USER).password)
    server = LiveServer(tmp_path / "data")
    server.prepare_accounts()
    try:
        server.start("--no-mqtt", "--mqtt-host", "127.0.0.1", "--mqtt-port", str(broker.port))
        with server.client("kiosk") as kiosk:
            assert kiosk.post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).status_code == 201
    finally:
        server.stop()  # a publishing server would have connected by now, and said goodbye on the way out
    own_status = device_status_topic(SITE, "display-1")
    late = recorder_for(broker, "display-1").connect(SERVER_STATUS, own_status)  # after all the server did
    try:
        # Barrier: a retained server status would reach us before our own later message does.
        late.publish(own_status, '{"v": 1}')
        late.wait_for(lambda _: late.on(own_status), what="our own status back")
    finally:
        late.disconnect()
    assert f"u'{SERVER_USER}'" not in broker.log(), "the server connected although --no-mqtt"
    assert late.on(SERVER_STATUS) == [], "a retained server status: the server published"


@pytest.mark.allow_error_logs
def test_wrong_credentials_stop_the_retries_with_one_clear_error(tmp_path, broker, caplog):
    publisher = MqttPublisher(SITE, server_settings(broker, password="not-the-password"))
    api = make_api(tmp_path / "data", publisher=publisher)
    try:
        publisher.start(api.services.state, api.services.clock.now)
        wait_until(lambda: publisher.gave_up, 10, "the refusal")
        wait_until(lambda: not [t for t in threading.enumerate() if t.name.startswith("paho")], 5,
                   "paho's network thread to end by itself")
        issue(api)  # the API keeps working; nothing is queued for a broker we cannot use
    finally:
        api.services.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    message = errors[0].getMessage()
    assert "refused user 'server-chuo'" in message and "Not authorized" in message and "Not retrying" in message
    assert "not-the-password" not in caplog.text
    assert broker.log().count("disconnected, not authorised") == 1, "the server tried more than once"
    assert publisher.connections == 0


def test_a_broker_outage_never_slows_requests_and_loses_no_call(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(mqtt_publisher, "EVENT_BACKLOG", 5)  # events may be dropped in a long outage, calls not
    broker = start_site_broker(tmp_path / "broker", persistence_dir=tmp_path / "broker")
    publisher = MqttPublisher(SITE, server_settings(broker))
    api = make_api(tmp_path / "data", publisher=publisher)
    # A display with a persistent session: whatever it misses while away waits for it on the broker.
    display = recorder_for(broker, "display-1", client_id="display-1", clean=False).connect(CALLS, STATE, EVENTS)
    try:
        publisher.start(api.services.state, api.services.clock.now)
        wait_until(lambda: publisher.connected, 10, "the server's connection")
        broker.stop()
        wait_until(lambda: not publisher.connected, 10, "the server to notice the outage")

        # Every request is answered while the broker is still down (one that waited for it would wait
        # until it is back); request latency itself is measured in tests/bench/bench_mqtt.py.
        started = time.monotonic()
        for _ in range(15):
            issue(api)
        tickets_called = [call_next(api, "c1")["ticket"]["number"], call_next(api, "c2")["ticket"]["number"]]
        assert time.monotonic() - started < HANG_GUARD_S, "requests waited for the broker"
        assert not broker.process or broker.process.poll() is not None, "the broker was down all along"

        broker.start()
        wait_until(lambda: publisher.connections >= 2, 15, "the server to reconnect")
        display.wait_for(latest_state_with_seq(STATE, api.services.seq), timeout_s=15, what="the state re-published")
        display.wait_for(lambda _: len(display.on(CALLS)) >= 2, timeout_s=15, what="both calls made during the outage")
        numbers = [CallPayload.model_validate_json(m.payload).number for m in display.on(CALLS)]
        assert numbers == tickets_called
        last_seq = api.services.seq
        display.wait_for(lambda _: [m for m in display.on(EVENTS) if m.json()["seq"] == last_seq],
                         what="the last event")
        assert [m.json()["seq"] for m in display.on(EVENTS)] == list(range(last_seq - 4, last_seq + 1))
        assert "12 events of the outage were dropped" in caplog.text
    finally:
        display.disconnect()
        api.services.close()
        broker.stop()


def test_a_display_that_reconnects_rebuilds_from_the_retained_state_and_announces_each_call_once(site):
    seen, announced = SeenCalls(), []

    def handle(messages) -> None:
        for message in messages:
            parsed = parse_message(SITE, message.topic, message.payload)
            if isinstance(parsed, StatePayload):
                seen.saw_state(parsed)
            elif isinstance(parsed, CallPayload) and seen.is_new(parsed):
                announced.append(parsed.seq)

    first = site.client("display-1", CALLS, STATE, client_id="display-1", clean=False)
    issue(site.api), issue(site.api), issue(site.api)
    call_next(site.api, "c1")
    first_call = site.api.services.calls.recent()[0].seq
    first.wait_for(lambda _: first.on(CALLS), what="the first call")
    first.disconnect()  # the broker keeps the session (and queues QoS 1 calls) for 300 s

    call_next(site.api, "c2")  # called while the display is away
    away_call = site.api.services.calls.recent()[0].seq
    # Reconnect as the same client: the session's queued call arrives; subscribing again brings the
    # retained state (which lists both calls by now).
    again = site.client("display-1", client_id="display-1", clean=False)
    again.wait_for(lambda _: again.on(CALLS), what="the call queued while away")
    again.subscribe(CALLS, STATE)
    again.wait_for(lambda _: any(m.retain for m in again.on(STATE)), what="the retained state")
    handle(first.messages + again.messages)
    handle([m for m in first.messages if m.topic == CALLS])  # a redelivery announces nothing
    assert announced == [first_call, away_call]

    # A display that starts afresh shows the recent calls from the retained state without announcing them.
    again.wait_for(latest_state_with_seq(STATE, site.api.services.seq), what="the state after both calls")
    fresh_seen, fresh = SeenCalls(), site.client("display-2", STATE, CALLS)
    retained = fresh.wait_for(lambda messages: messages[:1], what="retained state")[0]
    state = StatePayload.model_validate_json(retained.payload)
    fresh_seen.saw_state(state)
    assert [c.seq for c in state.recent_calls] == [away_call, first_call]
    assert not any(fresh_seen.is_new(c) for c in state.recent_calls)
    call_next(site.api, "c3")
    live = fresh.wait_for(lambda _: fresh.on(CALLS), what="a live call")[0]
    assert fresh_seen.is_new(CallPayload.model_validate_json(live.payload))
