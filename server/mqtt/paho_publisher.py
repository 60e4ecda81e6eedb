"""The MQTT side of the server (DESIGN §6): state, calls, events and the server's own status.

``MqttPublisher`` implements the ``Publisher`` port with paho-mqtt 2.x. Two threads, both stopped by
``close()``:

- paho's network thread (``loop_start``, named ``paho-mqtt-client-…``) connects, reconnects with an
  exponential backoff, and sends what is queued;
- ``madoguchi-mqtt-{site}`` drains the outbox: calls (never dropped, kept while the broker is away),
  events (the newest ``EVENT_BACKLOG`` kept), each in commit order, and the state, coalesced to the
  newest (at most one publish per ``state_interval_s``, refreshed every ``refresh_interval_s`` because
  estimates move with time).

``changed()`` runs on the writer thread after a commit: it only turns the commit (events, each with
the seq of its own log row, and calls) into small payloads and hands them to the outbox, so an API
request never waits for the network. The state is read through the callable given to ``start()``.

Lifecycle (Home Assistant's mqtt client is the model): a retained last will ``online: false`` on
``devices/server/status``; after every connect a retained birth ``online: true`` and the full retained
state; a broker that refuses the credentials is reported once at ERROR and not retried.

Device health: given ``on_device_status`` at ``start()``, the server also reads its site's
``devices/+/status`` (the ACL lets it): each display's retained status, heartbeat and last will reach
the floor guide's board as the kiosks' REST reports do (docs/design-changes.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

from madoguchi.common.protocol import (
    CREDENTIAL_REFUSALS,
    ROOT,
    SERVER_DEVICE,
    DeviceStatusPayload,
    EventPayload,
    calls_topic,
    device_status_topic,
    events_topic,
    server_status_topic,
    state_topic,
)

if TYPE_CHECKING:
    from madoguchi.server.composition import Settings
    from madoguchi.server.config.schema import BrokerConfig
    from madoguchi.server.core.events import Event
    from madoguchi.server.mqtt.port import Commit, StateReader

log = logging.getLogger(__name__)

PASSWORD_ENV = "MADOGUCHI_MQTT_PASSWORD"
QOS = 1
EVENT_BACKLOG = 50_000
"""Events kept for the broker during an outage (a busy day has a few thousand); calls are never dropped."""



@dataclass(frozen=True)
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    state_interval_s: float = 0.25
    """Shortest time between two state publishes: a burst of commits becomes one retained update."""
    refresh_interval_s: float = 30.0
    """The state is re-published this often even without commits (the estimates change with time)."""
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0
    """Backoff between connection attempts: doubles from the minimum up to the maximum."""
    close_timeout_s: float = 2.0
    """How long ``close()`` waits for the last messages (offline status, queued calls) to be acknowledged."""
    tls_ca_file: str | None = None
    """CA that signed the broker's certificate: set it to connect over TLS (the broker checks nothing
    else; the server checks the broker's certificate and host name against it)."""
    tls_cert_file: str | None = None
    """Client certificate, for a broker that requires one."""
    tls_key_file: str | None = None
    """Its private key."""

    @classmethod
    def from_broker(cls, broker: BrokerConfig, *, host: str | None = None, port: int | None = None,
                    password: str | None = None, **tuning: Any) -> MqttSettings:
        """The site's broker settings, with command-line overrides."""
        return cls(host=host or broker.host, port=port or broker.port, username=broker.username,
                   password=password, keepalive_s=broker.keepalive_s, tls_ca_file=broker.tls_ca_file,
                   tls_cert_file=broker.tls_cert_file, tls_key_file=broker.tls_key_file, **tuning)


@dataclass(frozen=True)
class Outgoing:
    topic: str
    payload: str
    retain: bool = False


def event_payload(site: str, seq: int, event: Event) -> EventPayload:
    """The anonymised form of a core event: no ticket id, no token, no number, nothing from the card."""
    return EventPayload(seq=seq, site=site, at=event.at, kind=event.kind.value, band=event.band,
                        procedure=event.procedure, counter=event.counter_id)


def commit_messages(site: str, commit: Commit) -> list[Outgoing]:
    """Calls and events of one commit, in event-log order (a call before the event row of the same seq);
    every event carries the seq of its own log row."""
    keyed = [(call.seq, 0, Outgoing(calls_topic(site), call.model_dump_json())) for call in commit.calls]
    keyed += [(s.seq, 1, Outgoing(events_topic(site), event_payload(site, s.seq, s.event).model_dump_json()))
              for s in commit.events]
    return [message for _, _, message in sorted(keyed, key=lambda k: (k[0], k[1]))]


class MqttPublisher:
    """Publishes a site's commits to its broker; see the module docstring for the threads and rules."""

    def __init__(self, site: str, settings: MqttSettings) -> None:
        self.site = site
        self.settings = settings
        self._cond = threading.Condition()
        self._calls_topic = calls_topic(site)
        self._calls: deque[Outgoing] = deque()  # never dropped
        self._events: deque[Outgoing] = deque(maxlen=EVENT_BACKLOG)  # the oldest go first in a long outage
        self._dropped_events = 0
        self._state_wanted = False  # a commit since the last state publish
        self._resync = False  # just (re)connected: birth and full state now
        self._connected = False  # the broker acknowledged our birth message: the worker may send
        self._link_up = False  # a session is open (for the log: one warning per outage)
        self._birth_mid: int | None = None
        self._closing = False
        self._gave_up = False  # the broker refused our credentials
        self._reported_unreachable = False
        self._last_state_at = -math.inf  # time.monotonic() of the last state publish
        self._read_state: StateReader | None = None
        self._now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
        self._worker: threading.Thread | None = None
        self._reported_denial = False
        self.connections = 0
        """How many times a connection was accepted (tests and /metrics can read it)."""
        self.state_publishes = 0
        self._on_device_status: Callable[[DeviceStatusPayload], object] | None = None
        self._client = self._new_client()

    # --- the Publisher port -------------------------------------------------------------------------

    def changed(self, commit: Commit) -> None:
        """On the writer thread: queue the commit's messages and wake the worker; never blocks on I/O."""
        if self._gave_up:
            return
        messages = commit_messages(self.site, commit)
        with self._cond:
            if self._closing:
                return
            for message in messages:
                if message.topic == self._calls_topic:
                    self._calls.append(message)
                else:
                    self._dropped_events += len(self._events) == self._events.maxlen
                    self._events.append(message)
            self._state_wanted = True
            self._cond.notify()

    def device_status(self, status: DeviceStatusPayload) -> None:
        """Queue a REST-only device's status, retained on its own status topic (the ACL lets the server
        write the status topics of the site's kiosks); never blocks on I/O."""
        if self._gave_up:
            return
        message = Outgoing(device_status_topic(self.site, status.device), status.model_dump_json(), retain=True)
        with self._cond:
            if self._closing:
                return
            self._dropped_events += len(self._events) == self._events.maxlen
            self._events.append(message)
            self._cond.notify()

    def close(self) -> None:
        """Send what is queued if connected, mark the server offline, disconnect, stop both threads."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify()
        if self._worker is not None:
            self._worker.join(timeout=5)  # it flushes the outbox first when connected
        if self._link_up:
            info = self._publish(server_status_topic(self.site), self._status(online=False), retain=True)
            self._wait_published(info)
        self._client.disconnect()  # a clean DISCONNECT: the broker drops the will, our status says offline
        # paho's thread may end by itself (after giving up) between loop_stop's check and its join
        with contextlib.suppress(AttributeError):
            self._client.loop_stop()

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self, read_state: StateReader, now: Callable[[], dt.datetime] | None = None,
              on_device_status: Callable[[DeviceStatusPayload], object] | None = None) -> None:
        """Connect in the background and keep the site's retained state current from now on.

        ``read_state`` gives the state of committed changes (``Services.state``); ``now`` the site clock
        for the server's status messages; ``on_device_status`` (paho's thread, must not block) hears
        every device's status (``DeviceRegistry.report``)."""
        self._read_state = read_state
        self._on_device_status = on_device_status
        if now is not None:
            self._now = now
        self._worker = threading.Thread(target=self._run, name=f"madoguchi-mqtt-{self.site}", daemon=True)
        self._worker.start()
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s)
        self._client.loop_start()

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def gave_up(self) -> bool:
        """True once the broker refused the credentials: nothing more is attempted."""
        return self._gave_up

    def _new_client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"madoguchi-server-{self.site}",
                             protocol=mqtt.MQTTv5)
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password)
        if self.settings.tls_ca_file:
            client.tls_set(ca_certs=self.settings.tls_ca_file, certfile=self.settings.tls_cert_file,
                           keyfile=self.settings.tls_key_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(self.settings.reconnect_min_s, self.settings.reconnect_max_s)  # type: ignore[arg-type]
        client.on_pre_connect = self._set_will
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _where(self) -> str:
        scheme = "mqtts" if self.settings.tls_ca_file else "mqtt"
        return f"MQTT broker {scheme}://{self.settings.host}:{self.settings.port}"

    def _set_will(self, client: mqtt.Client, userdata: object) -> None:
        """Before each (re)connect: the retained ``online: false`` the broker publishes if we vanish."""
        client.will_set(server_status_topic(self.site), self._status(online=False), qos=QOS, retain=True)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode,
                    properties: object) -> None:
        if reason.is_failure:
            if reason.getName() in CREDENTIAL_REFUSALS:
                self._give_up(reason)
            else:
                log.warning("%s refused the connection (%s); retrying", self._where(), reason.getName())
            return
        self.connections += 1
        self._link_up = True
        self._reported_unreachable = False
        log.info("%s connected as %s", self._where(), self.settings.username or "anonymous")
        # paho re-sends the QoS 1 messages it still holds right after this callback returns. The worker
        # waits for the PUBACK of the birth message, so that everything newer goes out after them: a
        # display never gets an older call after a newer one, and an older state never stays retained.
        self._birth_mid = self._publish(server_status_topic(self.site), self._status(online=True), retain=True).mid
        if self._on_device_status is not None:
            client.subscribe(f"{ROOT}/{self.site}/devices/+/status", qos=QOS)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        """A device's status (a display's own, or a kiosk's that this server published): to the registry.
        The topic names the device (the ACL lets each write only its own); a payload naming another is dropped."""
        prefix = f"{ROOT}/{self.site}/devices/"
        device = message.topic[len(prefix):-len("/status")] if message.topic.startswith(prefix) else ""
        if self._on_device_status is None or not device or device == SERVER_DEVICE:
            return
        try:
            status = DeviceStatusPayload.model_validate_json(message.payload)
        except ValidationError:
            log.warning("%s: a status on the topic of device %r does not match the contract; ignored",
                        self._where(), device)
            return
        if status.device == device:
            self._on_device_status(status)

    def _give_up(self, reason: ReasonCode) -> None:
        self._gave_up = True
        hint = "" if self.settings.password else f" ({PASSWORD_ENV} is not set)"
        log.error("%s refused user %r: %s%s. Not retrying: check the site's broker.username and %s, then "
                  "restart the server. Displays get no updates until then.",
                  self._where(), self.settings.username, reason.getName(), hint, PASSWORD_ENV)
        with self._cond:
            self._calls.clear()
            self._events.clear()
            self._cond.notify()
        self._client.disconnect()  # ends paho's loop_forever: no further attempts

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        if not self._reported_unreachable:
            self._reported_unreachable = True
            log.warning("%s unreachable; retrying every %g–%g s, updates are kept until it answers",
                        self._where(), self.settings.reconnect_min_s, self.settings.reconnect_max_s)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode,
                       properties: object) -> None:
        with self._cond:
            self._connected, self._birth_mid = False, None
        was_up, self._link_up = self._link_up, False
        if was_up and not self._closing:
            self._reported_unreachable = True  # one warning per outage, not one per attempt
            log.warning("%s connection lost (%s); reconnecting, updates are kept until it answers",
                        self._where(), reason.getName())

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: ReasonCode,
                    properties: object) -> None:
        if mid == self._birth_mid:
            with self._cond:  # see _on_connect: from now on the worker may send
                self._connected = True
                self._resync = True
                self._cond.notify()
        if reason.is_failure:  # MQTT v5 PUBACK: mosquitto says "Not authorized" when the ACL denies it
            level = logging.DEBUG if self._reported_denial else logging.WARNING
            self._reported_denial = True
            log.log(level, "%s did not accept message %d: %s (check the ACL for user %r)", self._where(), mid,
                    reason.getName(), self.settings.username)

    # --- the worker ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._work_due():
                    self._cond.wait(timeout=self._seconds_to_next_work())
                send_state = self._connected and self._state_due()
                if send_state:
                    self._state_wanted = self._resync = False
                    self._last_state_at = time.monotonic()
                closing = self._closing
            try:
                # The state is read before the queue is taken: every call it lists was queued (under the
                # office lock, right after its commit) by then, so each call goes out before a state that
                # shows it, and a display never takes a call it has not announced for an old one.
                state = self._state_payload() if send_state else None
                with self._cond:
                    batch: list[Outgoing] = []
                    dropped = 0
                    if self._connected:
                        batch = [*self._calls, *self._events]  # calls first: a display waits for them
                        self._calls.clear()
                        self._events.clear()
                        dropped, self._dropped_events = self._dropped_events, 0
                if batch and dropped:
                    log.warning("%s: %d events of the outage were dropped (backlog limit %d); no call was",
                                self._where(), dropped, EVENT_BACKLOG)
                for message in batch:
                    self._publish(message.topic, message.payload, retain=message.retain)
                if state is not None:
                    self._publish(state_topic(self.site), state, retain=True)
                    self.state_publishes += 1
            except Exception:  # a bug must not silence the displays for the rest of the day
                log.exception("%s: publishing failed; the worker carries on", self._where())
            if closing:
                return

    def _work_due(self) -> bool:
        if self._closing:
            return True
        if not self._connected:
            return False
        return bool(self._calls or self._events) or self._state_due()

    def _state_due(self) -> bool:
        since = time.monotonic() - self._last_state_at
        return (self._resync or (self._state_wanted and since >= self.settings.state_interval_s)
                or since >= self.settings.refresh_interval_s)

    def _seconds_to_next_work(self) -> float | None:
        if not self._connected:
            return None  # on_connect or close() will wake us
        wait = self.settings.state_interval_s if self._state_wanted else self.settings.refresh_interval_s
        return max(0.0, self._last_state_at + wait - time.monotonic())

    def _state_payload(self) -> str | None:
        if self._read_state is None:
            return None
        return self._read_state().model_dump_json()  # takes the office lock briefly, like GET /state

    # --- helpers ------------------------------------------------------------------------------------

    def _publish(self, topic: str, payload: str, *, retain: bool) -> mqtt.MQTTMessageInfo:
        """Hand a message to paho: QoS 1 messages it cannot send now are sent after it reconnects."""
        info = self._client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            log.warning("%s: could not queue a message on %s (%s)", self._where(), topic, mqtt.error_string(info.rc))
        return info

    def _wait_published(self, info: mqtt.MQTTMessageInfo) -> None:
        try:
            info.wait_for_publish(self.settings.close_timeout_s)
            acknowledged = info.is_published()
        except (RuntimeError, ValueError):  # the connection went away meanwhile
            acknowledged = False
        if not acknowledged:
            log.warning("%s: the offline status was not acknowledged within %g s; the last will covers it",
                        self._where(), self.settings.close_timeout_s)

    def _status(self, *, online: bool) -> str:
        """The server's status; for the last will, ``at`` is when the session began (the end is unknown)."""
        now = self._now()
        return DeviceStatusPayload(device=SERVER_DEVICE, online=online, at=now).model_dump_json()


def site_publisher(settings: Settings, *, host: str | None = None, port: int | None = None,
                   environ: Mapping[str, str] | None = None) -> MqttPublisher:
    """The publisher ``madoguchi serve`` uses: the site file's broker, host and port overridable."""
    from madoguchi.server.config.schema import load_site

    broker = load_site(settings.config_dir, settings.site).broker
    password = (os.environ if environ is None else environ).get(PASSWORD_ENV) or None
    return MqttPublisher(settings.site, MqttSettings.from_broker(broker, host=host, port=port, password=password))
