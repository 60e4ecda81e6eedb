"""The site broker's accounts and ACL: displays only read, kiosks and displays write only their own status,
the server writes only its own site. Checked on a real mosquitto through MQTT v5 PUBACK reason codes."""

from __future__ import annotations

import stat

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from madoguchi.common.protocol import device_status_topic, site_filter, state_topic
from madoguchi.server.config.schema import default_config_dir
from madoguchi.server.mqtt.mosquitto import BrokerAccount, central_acl, example_accounts, render_site_broker, site_acl
from tests.mqtt.broker import SERVER_USER, SITE, latest_state_with_seq
from tests.mqtt.conftest import recorder_for
from tests.mqtt.test_publishing import issue

STATE = state_topic(SITE)
ALLOWED = {"Success", "No matching subscribers"}


@pytest.mark.parametrize(("user", "topic", "allowed"), [
    ("display-1", STATE, False),
    ("display-1", "madoguchi/chuo/calls", False),
    ("display-1", device_status_topic(SITE, "display-1"), True),
    ("display-1", device_status_topic(SITE, "display-2"), False),
    ("display-1", device_status_topic(SITE, "server"), False),
    ("kiosk-1", device_status_topic(SITE, "kiosk-1"), True),
    ("kiosk-1", STATE, False),
    (SERVER_USER, STATE, True),
    (SERVER_USER, "madoguchi/chuo/events", True),
    (SERVER_USER, device_status_topic(SITE, "server"), True),
    (SERVER_USER, state_topic("higashi"), False),
    (SERVER_USER, device_status_topic(SITE, "display-1"), False),
])
def test_who_may_publish_where(broker, user, topic, allowed):
    client = recorder_for(broker, user).connect()
    try:
        reason = client.wait_for_ack(client.publish(topic, '{"v": 1}'))
    finally:
        client.disconnect()
    assert (reason in ALLOWED) is allowed, f"{user} → {topic}: {reason}"
    assert allowed or reason == "Not authorized"


def test_a_display_cannot_overwrite_the_state_that_other_displays_see(site):
    issue(site.api)
    honest = site.client("display-2", STATE, device_status_topic(SITE, "display-1"))
    honest.wait_for(latest_state_with_seq(STATE, site.api.services.seq), what="the real state")
    forger = site.client("display-1")
    forger.publish(STATE, '{"v": 1, "forged": true}', retain=True)
    forger.publish(device_status_topic(SITE, "display-1"), '{"v": 1, "online": true}')
    # One client's messages reach a subscriber in order: the status arrives after the forged state would.
    honest.wait_for(lambda _: honest.on(device_status_topic(SITE, "display-1")), what="the forger's own status")
    assert not [m for m in honest.on(STATE) if b"forged" in m.payload]
    late = site.client("kiosk-1")  # also checks that a kiosk reads nothing of the site
    late.subscribe(site_filter(SITE))
    # The broker binds client ids to user names: a second display-1 would take over the forger's
    # session and the two would keep kicking each other off. The forger leaves first.
    forger.disconnect()
    reader = site.client("display-1", STATE)
    retained = reader.wait_for(lambda messages: messages[:1], what="retained state")[0]
    assert retained.json() == site.api.get("/api/v1/state", "display").json()
    issue(site.api)
    reader.wait_for(latest_state_with_seq(STATE, site.api.services.seq), what="a live state")
    # The broker writes a message to all its subscribers in one pass: by now the kiosk would have it.
    with pytest.raises(TimeoutError):
        late.wait_for(lambda messages: messages, timeout_s=0.3, what="anything (kiosks read nothing)")


@pytest.mark.parametrize("credentials", [None, ("display-1", "wrong"), ("nobody", "x")])
def test_anonymous_users_and_wrong_passwords_are_refused(broker, credentials):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if credentials:
        client.username_pw_set(*credentials)
    answers: list[str] = []
    client.on_connect = lambda c, u, f, reason, p: answers.append(reason.getName())
    client.connect("127.0.0.1", broker.port)
    for _ in range(50):  # bounded: at most 5 s of network loop until the CONNACK
        client.loop(0.1)
        if answers:
            break
    client.disconnect()
    assert answers == ["Not authorized"]


def test_rendered_files_hash_passwords_and_refuse_ambiguous_accounts(tmp_path):
    accounts = [BrokerAccount.server(SERVER_USER, "server-secret-1"),
                BrokerAccount.device("display-1", "display", "display-secret-1")]
    rendered = render_site_broker(SITE, tmp_path, accounts, port=18990)
    passwd = rendered.password_path.read_text()
    assert "secret" not in passwd and passwd.count("$7$") == 2
    assert stat.S_IMODE(rendered.password_path.stat().st_mode) == 0o600
    config = rendered.config_path.read_text()
    options = [line for line in config.splitlines() if line and not line.startswith("#")]
    assert options[0] == "per_listener_settings false" and "allow_anonymous false" in options
    assert "listener 18990 127.0.0.1" in options and "user root" not in options

    assert site_acl(SITE, accounts[1:]).splitlines()[2:5] == [
        "user display-1", "topic read madoguchi/chuo/#", "topic write madoguchi/chuo/devices/display-1/status"]
    with pytest.raises(ValueError, match="duplicate"):
        render_site_broker(SITE, tmp_path, [*accounts, BrokerAccount.device("display-1", "kiosk")])
    with pytest.raises(ValueError, match="server"):
        render_site_broker(SITE, tmp_path, [BrokerAccount("intruder", "display", "server")])
    with pytest.raises(ValueError, match="topic segment"):
        render_site_broker(SITE, tmp_path, [BrokerAccount.device("Display 1", "display")])


def test_the_shipped_acl_examples_are_what_the_renderer_writes():
    shipped = default_config_dir() / "mosquitto"
    assert (shipped / "chuo.acl.example").read_text(encoding="utf-8") == site_acl(SITE, example_accounts())

    def rules(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.startswith("#")]
    central = rules((shipped / "central.acl.example").read_text(encoding="utf-8"))
    assert central == rules(central_acl(["chuo", "higashi"]))
