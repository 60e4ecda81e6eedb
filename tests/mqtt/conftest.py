"""Fixtures: a real mosquitto with the site's ACL and password file, and the in-process API publishing to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from madoguchi.server.mqtt.paho_publisher import MqttPublisher, MqttSettings
from tests.api.conftest import Api, make_api
from tests.live import wait_until
from tests.mqtt.broker import SERVER_USER, SITE, Mosquitto, Recorder, start_site_broker


def server_settings(broker: Mosquitto, **overrides: object) -> MqttSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1", "port": broker.port, "username": SERVER_USER,
        "password": broker.rendered.account(SERVER_USER).password,
        "state_interval_s": 0.1, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0,
    }
    return MqttSettings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def broker(tmp_path) -> Iterator[Mosquitto]:
    started = start_site_broker(tmp_path / "broker")
    yield started
    started.stop()


@dataclass
class Site:
    """The in-process API of site chuo, publishing to ``broker`` through ``publisher``."""

    api: Api
    publisher: MqttPublisher
    broker: Mosquitto
    recorders: list[Recorder] = field(default_factory=list)

    def client(self, name: str, *topics: str, **options: object) -> Recorder:
        """A connected broker client as account ``name`` (display-1, kiosk-1, …), subscribed to ``topics``."""
        recorder = recorder_for(self.broker, name, **options)
        self.recorders.append(recorder)
        return recorder.connect(*topics)

    def close(self) -> None:
        for recorder in self.recorders:
            recorder.disconnect()


@pytest.fixture
def site(tmp_path, broker) -> Iterator[Site]:
    publisher = MqttPublisher(SITE, server_settings(broker))
    api = make_api(tmp_path / "data", publisher=publisher)
    publisher.start(api.services.state, api.services.clock.now)
    wait_until(lambda: publisher.connected, 10, "the server's MQTT connection")
    made = Site(api, publisher, broker)
    with api.client:
        yield made
    made.close()
    api.services.close()


def recorder_for(broker: Mosquitto, name: str, **options: object) -> Recorder:
    account = broker.rendered.account(name)
    return Recorder(broker.port, account.username, account.password, **options)  # type: ignore[arg-type]
