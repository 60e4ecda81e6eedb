"""The display's MQTT client (docs/mqtt.md, "How a display rebuilds"): its own broker user, a
persistent session, subscribe after every connect, reconnect with back-off, its own retained status
with a last will. Messages are handed to the display's main loop through a queue, parsed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

from madoguchi.common.protocol import (
    CREDENTIAL_REFUSALS,
    SERVER_DEVICE,
    DeviceStatusPayload,
    Message,
    device_status_topic,
    parse_message,
    site_filter,
)

log = logging.getLogger(__name__)

QOS = 1
SESSION_EXPIRY_S = 600
"""The broker keeps the QoS 1 calls of a short drop for us this long."""


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    username: str
    password: str | None
    keepalive_s: int = 15
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 4.0
    """Short: the board must come back within seconds of the broker (the acceptance asks for 5 s)."""
    tls_ca_file: str | None = None
    """CA certificate that signed the broker's: set, the display connects over TLS and checks the broker's name."""
    tls_cert_file: str | None = None
    """Client certificate of the display, when the broker asks for one (``require_certificate``)."""
    tls_key_file: str | None = None


@dataclass(frozen=True)
class Received:
    message: Message
    at: float  # time.monotonic() on arrival


@dataclass(frozen=True)
class Link:
    connected: bool
    refused: str | None = None


Update = Received | Link


class Subscriber:
    def __init__(self, site: str, settings: BrokerSettings) -> None:
        self.site = site
        self.settings = settings
        self.updates: queue.Queue[Update] = queue.Queue()
        self.wake: Callable[[], None] = lambda: None
        """Called (in paho's thread) after each update is queued: the display's loop wakes at once."""
        self.status_topic = device_status_topic(site, settings.username)
        self.gave_up = False
        self.connections = 0
        self._status = DeviceStatusPayload(device=settings.username, online=True, at=_now())
        self._lock = threading.Lock()
        self._link_up = False
        self._warned = False
        self._closing = False
        self._client = self._new_client()

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s,
                                   clean_start=False, properties=properties)
        self._client.loop_start()

    def stop(self) -> None:
        """A clean stop: retained ``online: false``, then DISCONNECT (the broker drops the will)."""
        self._closing = True
        if self._link_up:
            info = self._publish_status(online=False)
            if info is not None:
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(2)
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._link_up

    def report(self, *, audio: str | None = None, state_seq: int | None = None,
               state_at: dt.datetime | None = None) -> None:
        """Update the display's retained status (audio, last state seen) and publish it when connected."""
        with self._lock:
            changes: dict[str, object] = {"at": _now()}
            if audio is not None:
                changes["audio"] = audio
            if state_seq is not None:
                changes["last_state_seq"] = state_seq
                changes["last_state_at"] = state_at
            self._status = self._status.model_copy(update=changes)
        if self._link_up:
            self._publish_status(online=True)

    # ---- paho

    def _new_client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.settings.username, protocol=mqtt.MQTTv5)
        client.username_pw_set(self.settings.username, self.settings.password)
        client.reconnect_delay_set(self.settings.reconnect_min_s, self.settings.reconnect_max_s)  # type: ignore[arg-type]
        if self.settings.tls_ca_file:
            client.tls_set(ca_certs=self.settings.tls_ca_file, certfile=self.settings.tls_cert_file,
                           keyfile=self.settings.tls_key_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_pre_connect = self._set_will
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _where(self) -> str:
        scheme = "mqtts" if self.settings.tls_ca_file else "mqtt"
        return f"MQTT broker {scheme}://{self.settings.host}:{self.settings.port}"

    def _status_json(self, online: bool) -> str:
        with self._lock:
            return self._status.model_copy(update={"online": online, "at": _now()}).model_dump_json()

    def _set_will(self, client: mqtt.Client, userdata: object) -> None:
        client.will_set(self.status_topic, self._status_json(online=False), qos=QOS, retain=True)

    def _publish_status(self, online: bool) -> mqtt.MQTTMessageInfo | None:
        try:
            return self._client.publish(self.status_topic, self._status_json(online), qos=QOS, retain=True)
        except (ValueError, RuntimeError):
            return None

    def _put(self, update: Update) -> None:
        self.updates.put(update)
        self.wake()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode,
                    properties: object) -> None:
        if reason.is_failure:
            if reason.getName() in CREDENTIAL_REFUSALS:
                self.gave_up = True
                log.error("%s refused user %r (%s): check --username and --password-file; not retrying",
                          self._where(), self.settings.username, reason.getName())
                self._put(Link(False, reason.getName()))
                threading.Thread(target=client.disconnect, daemon=True).start()
            else:
                log.warning("%s refused the connection (%s); retrying", self._where(), reason.getName())
            return
        self.connections += 1
        self._link_up = True
        self._warned = False
        log.info("%s connected as %s", self._where(), self.settings.username)
        client.subscribe(site_filter(self.site), qos=QOS)
        self._publish_status(online=True)
        self._put(Link(True))

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        # paho calls this inside its ``except OSError``: the error is the one being handled
        error = sys.exc_info()[1]
        if isinstance(error, ssl.SSLError) and not self._warned:
            self._warned = True
            log.error("%s: TLS failed (%s): is the broker's certificate signed by --tls-ca-file %s, and for the "
                      "name %r? Retrying every %g–%g s", self._where(), getattr(error, "verify_message", None)
                      or error.reason or error, self.settings.tls_ca_file, self.settings.host,
                      self.settings.reconnect_min_s, self.settings.reconnect_max_s)
        if not self._warned:
            self._warned = True
            log.warning("%s unreachable; retrying every %g–%g s", self._where(), self.settings.reconnect_min_s,
                        self.settings.reconnect_max_s)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode,
                       properties: object) -> None:
        was_up, self._link_up = self._link_up, False
        if was_up:
            self._put(Link(False))
            if not self._warned and not self.gave_up and not self._closing:
                self._warned = True
                log.warning("%s connection lost (%s); reconnecting", self._where(), reason.getName())
        if self.gave_up:
            threading.Thread(target=client.loop_stop, daemon=True).start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            parsed = parse_message(self.site, message.topic, message.payload)
        except ValidationError as exc:
            log.warning("ignored a message on %s that does not match the contract: %s", message.topic,
                        exc.errors()[0]["msg"] if exc.errors() else exc)
            return
        if parsed is None:
            return
        if isinstance(parsed, DeviceStatusPayload) and parsed.device != SERVER_DEVICE:
            return  # kiosks, other displays: not ours to show
        self._put(Received(parsed, time.monotonic()))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).astimezone()
