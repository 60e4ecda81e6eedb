"""A real mosquitto on a free port, rendered by madoguchi.server.mqtt.mosquitto, and a recording subscriber.

Used by tests/mqtt and the MQTT bench. Every wait is a bounded retry; everything started is stopped.
"""

from __future__ import annotations

import getpass
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from madoguchi.server.mqtt.mosquitto import BrokerAccount, RenderedBroker, render_site_broker
from tests.live import free_port, stop_process, wait_until

SITE = "chuo"
SERVER_USER = "server-chuo"  # config/sites/chuo.toml broker.username


def site_accounts() -> list[BrokerAccount]:
    return [BrokerAccount.server(SERVER_USER), BrokerAccount.device("display-1", "display"),
            BrokerAccount.device("display-2", "display"), BrokerAccount.device("kiosk-1", "kiosk")]


class Mosquitto:
    """One mosquitto process for a rendered configuration; can be stopped and started again on its port."""

    def __init__(self, rendered: RenderedBroker) -> None:
        self.rendered = rendered
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = rendered.directory / "mosquitto.log"

    @property
    def port(self) -> int:
        return self.rendered.port

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.rendered.command(), stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._accepting, 10, f"mosquitto on port {self.port}")

    def _accepting(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {self.process.returncode}: {self.log()[-1500:]}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
            return True

    def stop(self) -> None:
        stop_process(self.process, grace_s=5)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def start_site_broker(directory: Path, **render: object) -> Mosquitto:
    rendered = render_site_broker(SITE, directory, site_accounts(), port=free_port(), run_as=getpass.getuser(),
                                  **render)  # type: ignore[arg-type]
    broker = Mosquitto(rendered)
    broker.start()
    return broker


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> dict:
        return json.loads(self.payload)


@dataclass
class Recorder:
    """An MQTT client (a display, by default) that records every message it receives."""

    port: int
    username: str
    password: str
    client_id: str = ""
    clean: bool = True
    tls_ca: Path | None = None
    """Connect over TLS, trusting this CA (the port is then the broker's TLS port)."""
    messages: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _client: mqtt.Client | None = None
    acks: dict[int, str] = field(default_factory=dict)

    def connect(self, *topics: str) -> Recorder:
        """Connect (MQTT v5), subscribe to ``topics`` at QoS 1 and wait until the subscription is acknowledged."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        client.username_pw_set(self.username, self.password)
        if self.tls_ca is not None:
            client.tls_set(ca_certs=str(self.tls_ca))
        client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]  # paho sleeps fractions fine
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        properties = None
        if not self.clean:  # a persistent session: the broker keeps QoS 1 messages while we are away
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 300
        client.connect("127.0.0.1", self.port, clean_start=self.clean, properties=properties)
        client.loop_start()
        self._client = client
        return self.subscribe(*topics) if topics else self

    def subscribe(self, *topics: str) -> Recorder:
        assert self._client is not None
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.subscribe([(t, 1) for t in topics])
        if not subscribed.wait(5):
            raise TimeoutError(f"no SUBACK for {topics}")
        return self

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Received(message.topic, message.payload, bool(message.retain)))
            self._cond.notify_all()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason, properties) -> None:
        with self._cond:
            self.acks[mid] = reason.getName()
            self._cond.notify_all()

    def publish(self, topic: str, payload: str, retain: bool = False) -> int:
        assert self._client is not None
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        return info.mid

    def wait_for(self, predicate: Callable[[list[Received]], object], timeout_s: float = 10, what: str = "") -> object:
        """The first truthy ``predicate(messages)``, re-checked on every message, or TimeoutError."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                result = predicate(self.messages)
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"not received within {timeout_s} s: {what or predicate}; "
                                       f"got {[m.topic for m in self.messages]}")
                self._cond.wait(remaining)

    def wait_for_ack(self, mid: int, timeout_s: float = 5) -> str:
        return str(self.wait_for(lambda _: self.acks.get(mid), timeout_s, f"PUBACK {mid}"))

    def on(self, topic: str) -> list[Received]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def disconnect(self) -> None:
        if self._client is None:
            return
        self._client.disconnect()
        self._client.loop_stop()
        self._client = None


def latest_state_with_seq(topic: str, seq: int) -> Callable[[list[Received]], dict | None]:
    """Predicate: the newest state message on ``topic`` whose seq is at least ``seq``."""
    def check(messages: list[Received]) -> dict | None:
        for message in reversed(messages):
            if message.topic == topic:
                body = message.json()
                return body if body["seq"] >= seq else None
        return None
    return check
