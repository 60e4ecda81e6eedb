"""The bridge example: a site broker forwards its state and events to the city's central broker, nothing else."""

from __future__ import annotations

import getpass

from madoguchi.common.protocol import events_topic, state_topic
from madoguchi.server.mqtt.mosquitto import (
    CITY_VIEW_USER,
    BridgeTarget,
    bridge_user,
    new_password,
    render_central_broker,
)
from madoguchi.server.mqtt.paho_publisher import MqttPublisher
from tests.api.conftest import make_api
from tests.live import free_port, wait_until
from tests.mqtt.broker import SITE, Mosquitto, Recorder, latest_state_with_seq, start_site_broker
from tests.mqtt.conftest import server_settings
from tests.mqtt.test_publishing import call_next, issue


def test_the_city_broker_receives_each_sites_state_and_events_through_the_bridge(tmp_path):
    bridge_password, city_password = new_password(), new_password()
    central = Mosquitto(render_central_broker(tmp_path / "central", {SITE: bridge_password}, city_password,
                                              port=free_port(), run_as=getpass.getuser()))
    central.start()
    site_broker = None
    api = None
    city = Recorder(central.port, CITY_VIEW_USER, city_password)
    try:
        site_broker = start_site_broker(tmp_path / "site", bridge=BridgeTarget(
            "127.0.0.1", central.port, bridge_user(SITE), bridge_password))
        wait_until(lambda: f"u'{bridge_user(SITE)}'" in central.log(), 10, "the bridge at the central broker")
        city.connect("madoguchi/#")
        publisher = MqttPublisher(SITE, server_settings(site_broker))
        api = make_api(tmp_path / "data", publisher=publisher)
        publisher.start(api.services.state, api.services.clock.now)
        issue(api)
        call_next(api, "c1")
        seq = api.services.seq
        state = city.wait_for(latest_state_with_seq(state_topic(SITE), seq), timeout_s=15,
                              what="the site's state on the central broker")
        assert state == api.get("/api/v1/state", "display").json()
        city.wait_for(lambda messages: [m for m in messages if m.topic == events_topic(SITE)
                                        and m.json()["seq"] == seq], what="the last event on the central broker")
        topics = {m.topic for m in city.messages}
        # The bridge forwards nothing else (and the central ACL would refuse calls or device status anyway).
        assert topics <= {state_topic(SITE), events_topic(SITE)}, topics
        assert "Not authorized" not in central.log() and "not authorised" not in central.log()
    finally:
        city.disconnect()
        if api is not None:
            api.services.close()
        if site_broker is not None:
            site_broker.stop()
        central.stop()
