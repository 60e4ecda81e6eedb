"""A display reaches a broker beyond localhost over TLS (a real mosquitto with its TLS listener and a CA made
here): it gets the server's state; a broker certificate from another CA is refused and said so in words."""

from __future__ import annotations

import logging
import queue
import time

import pytest

from madoguchi.common.protocol import StatePayload
from madoguchi.display.subscriber import BrokerSettings, Link, Received, Subscriber
from madoguchi.server.mqtt.paho_publisher import MqttPublisher
from tests.api.conftest import make_api
from tests.display.test_cli import run
from tests.live import wait_until
from tests.mqtt.broker import SITE
from tests.mqtt.certs import make_certificates
from tests.mqtt.conftest import server_settings
from tests.mqtt.test_broker_security import _tls_broker
from tests.mqtt.test_publishing import issue


def next_state(subscriber: Subscriber, seq: int, timeout_s: float = 10.0) -> StatePayload:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            update = subscriber.updates.get(timeout=0.2)
        except queue.Empty:
            continue
        if isinstance(update, Received) and isinstance(update.message, StatePayload) and update.message.seq >= seq:
            return update.message
    raise AssertionError(f"no state with seq >= {seq} within {timeout_s} s")


def display_settings(broker, ca_file) -> BrokerSettings:
    account = broker.rendered.account("display-1")
    return BrokerSettings(host="127.0.0.1", port=broker.rendered.tls_port, username=account.username,
                          password=account.password, reconnect_min_s=0.2, reconnect_max_s=0.5,
                          tls_ca_file=str(ca_file))


@pytest.mark.allow_error_logs  # the untrusted broker is logged as an error, on purpose
def test_a_display_gets_the_state_over_tls_and_refuses_a_broker_it_cannot_trust(tmp_path, caplog):
    broker, certs = _tls_broker(tmp_path)
    publisher = MqttPublisher(SITE, server_settings(broker, port=broker.rendered.tls_port,
                                                    tls_ca_file=str(certs.cafile)))
    api = make_api(tmp_path / "data", publisher=publisher)
    trusting = Subscriber(SITE, display_settings(broker, certs.cafile))
    stranger = Subscriber(SITE, display_settings(broker, make_certificates(tmp_path / "other",
                                                                            ca_name="someone else").cafile))
    try:
        publisher.start(api.services.state, api.services.clock.now)
        wait_until(lambda: publisher.connected, 10, "the server's TLS connection")
        trusting.start()
        wait_until(lambda: trusting.connected, 10, "the display's TLS connection")
        issue(api)
        state = next_state(trusting, api.services.seq)
        assert sum(b.waiting for b in state.bands) == 1, "the ticket just issued is on the board's state"

        with caplog.at_level(logging.ERROR, logger="madoguchi.display.subscriber"):
            stranger.start()
            wait_until(lambda: any("TLS failed" in r.getMessage() for r in caplog.records), 10,
                       "the display saying TLS failed")
        said = next(r.getMessage() for r in caplog.records if "TLS failed" in r.getMessage())
        assert "--tls-ca-file" in said and "certificate" in said, said
        assert not stranger.connected
        assert all(not isinstance(u, Link) or not u.connected for u in list(stranger.updates.queue))
    finally:
        trusting.stop()
        stranger.stop()
        api.services.close()
        broker.stop()


def test_a_missing_tls_file_or_a_certificate_without_a_ca_is_named_before_any_window_opens(tmp_path):
    missing = run("--site", "chuo", "--tls-ca-file", str(tmp_path / "nothing.crt"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr, missing.stderr
    assert f"--tls-ca-file {tmp_path / 'nothing.crt'}: file not found" in missing.stderr, missing.stderr
    alone = run("--site", "chuo", "--tls-cert-file", str(tmp_path / "display.crt"))
    assert alone.returncode == 2 and "--tls-cert-file needs --tls-ca-file" in alone.stderr, alone.stderr
