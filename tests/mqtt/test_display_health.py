"""A display's health reaches the server over MQTT (docs/design-changes.md): the server's own client reads
``devices/+/status`` and hands each status to the registry the floor guide's board reads."""

from __future__ import annotations

from madoguchi.common.protocol import DeviceStatusPayload, device_status_topic
from madoguchi.display.subscriber import BrokerSettings, Subscriber
from madoguchi.server.mqtt.paho_publisher import MqttPublisher
from tests.api.conftest import make_api
from tests.live import wait_until
from tests.mqtt.broker import SITE
from tests.mqtt.conftest import recorder_for, server_settings


def statuses(api) -> dict[str, dict]:
    return {s["device"]: s for s in api.client.get("/api/v1/devices/status", headers=api.headers("guide")).json()}


def test_a_displays_status_and_its_going_offline_reach_the_board_and_a_forged_one_does_not(tmp_path, broker):
    publisher = MqttPublisher(SITE, server_settings(broker))
    api = make_api(tmp_path / "data", publisher=publisher)
    publisher.start(api.services.state, api.services.clock.now, api.services.devices.report)
    wait_until(lambda: publisher.connected, 10, "the server's MQTT connection")
    account = broker.rendered.account("display-1")
    display = Subscriber(SITE, BrokerSettings("127.0.0.1", broker.port, account.username, account.password))
    forger = recorder_for(broker, "display-2").connect()
    try:
        with api.client:
            display.start()
            seen = wait_until(lambda: statuses(api).get("display-1"), 10, "display-1's status on the server")
            assert (seen["kind"], seen["online"]) == ("display", True)
            display.report(audio="failed")
            wait_until(lambda: statuses(api)["display-1"].get("online") is True
                       and any(s.audio == "failed" for s in api.services.devices.latest()), 10, "the sound failure")

            # display-2 may write only its own topic: a status on it naming display-1 is dropped
            now = api.services.clock.now()
            forged = DeviceStatusPayload(device="display-1", online=False, at=now.replace(year=now.year + 1))
            topic = device_status_topic(SITE, "display-2")
            forger.wait_for_ack(forger.publish(topic, forged.model_dump_json()))
            own = DeviceStatusPayload(device="display-2", online=True, at=now)
            forger.wait_for_ack(forger.publish(topic, own.model_dump_json()))  # handled after the forged one
            wait_until(lambda: "display-2" in statuses(api), 10, "display-2's own status")
            assert statuses(api)["display-1"]["online"] is True

            display.stop()  # a clean stop says offline (a crash: the broker's last will says the same)
            wait_until(lambda: statuses(api)["display-1"]["online"] is False, 10, "display-1 offline")
            alerts = api.services.devices.alerts(api.services.clock.now(), {"display-1"})
            assert [(a.device, a.kind) for a in alerts] == [("display-1", "offline")]
    finally:
        forger.disconnect()
        publisher.close()
        api.services.close()
