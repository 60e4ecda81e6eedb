"""The site broker (issue 8.10): client ids bound to user names, TLS beyond localhost, `madoguchi broker`."""

from __future__ import annotations

import getpass
import json
import ssl
import stat

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from madoguchi.common.protocol import server_status_topic, state_topic
from madoguchi.server.cli.main import main
from madoguchi.server.mqtt.mosquitto import BrokerTls, render_site_broker
from madoguchi.server.mqtt.paho_publisher import MqttPublisher
from madoguchi.server.storage.accounts import DeviceKind
from tests.api.conftest import make_api
from tests.live import free_port, wait_until
from tests.mqtt.broker import SERVER_USER, SITE, Mosquitto, Recorder, latest_state_with_seq, site_accounts
from tests.mqtt.certs import make_certificates
from tests.mqtt.conftest import recorder_for, server_settings
from tests.mqtt.test_publishing import issue

STATE = state_topic(SITE)
STATUS = server_status_topic(SITE)


def test_a_display_using_the_servers_client_id_does_not_kick_the_server_off(site):
    honest = site.client("display-2", STATE, STATUS)
    honest.wait_for(lambda _: honest.on(STATUS), what="the server's status")
    before = site.publisher.connections
    intruder = recorder_for(site.broker, "display-1", client_id="madoguchi-server-chuo").connect()
    site.recorders.append(intruder)
    issue(site.api)  # the server can still publish: the state of this commit arrives
    honest.wait_for(latest_state_with_seq(STATE, site.api.services.seq), what="a state after the intruder came")
    assert site.publisher.connections == before, "the server was disconnected and had to reconnect"
    assert [json.loads(m.payload)["online"] for m in honest.on(STATUS)] == [True], "displays saw the server go offline"


def connack(port: int, username: str, password: str) -> str:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    answers: list[str] = []
    client.on_connect = lambda c, u, f, reason, p: answers.append(reason.getName())
    client.connect("127.0.0.1", port)
    for _ in range(50):  # bounded: at most 5 s of network loop until the CONNACK
        client.loop(0.1)
        if answers:
            break
    client.disconnect()
    return answers[0] if answers else "no answer"


def _tls_broker(tmp_path, bind: str = "0.0.0.0"):
    certs = make_certificates(tmp_path / "certs")
    tls = BrokerTls(certfile=certs.certfile, keyfile=certs.keyfile, cafile=certs.cafile, port=free_port())
    rendered = render_site_broker(SITE, tmp_path / "broker", site_accounts(), port=free_port(), bind_address=bind,
                                  run_as=getpass.getuser(), tls=tls)
    broker = Mosquitto(rendered)
    broker.start()
    return broker, certs


def test_a_broker_bound_beyond_localhost_listens_with_tls_and_the_server_publishes_through_it(tmp_path):
    with pytest.raises(ValueError, match="needs TLS"):
        render_site_broker(SITE, tmp_path / "plain", site_accounts(), port=18991, bind_address="0.0.0.0")
    broker, certs = _tls_broker(tmp_path)
    options = [line for line in broker.rendered.config_path.read_text().splitlines()
               if line and not line.startswith("#")]
    assert f"listener {broker.port} 127.0.0.1" in options, "plain MQTT only on this machine"
    assert f"listener {broker.rendered.tls_port} 0.0.0.0" in options and f"cafile {certs.cafile}" in options
    assert "use_username_as_clientid true" in options
    publisher = MqttPublisher(SITE, server_settings(broker, port=broker.rendered.tls_port,
                                                    tls_ca_file=str(certs.cafile)))
    api = make_api(tmp_path / "data", publisher=publisher)
    display: Recorder | None = None
    try:
        publisher.start(api.services.state, api.services.clock.now)
        wait_until(lambda: publisher.connected, 10, "the server's TLS connection")
        issue(api)
        account = broker.rendered.account("display-1")
        display = Recorder(broker.rendered.tls_port, account.username, account.password,
                           tls_ca=certs.cafile).connect(STATE)
        display.wait_for(latest_state_with_seq(STATE, api.services.seq), what="the state over TLS")
    finally:
        if display is not None:
            display.disconnect()
        api.services.close()
        broker.stop()


def test_the_tls_listener_refuses_plain_mqtt_and_an_untrusted_certificate(tmp_path):
    broker, _ = _tls_broker(tmp_path)
    account = broker.rendered.account("display-1")
    try:
        plain = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        plain.username_pw_set(account.username, account.password)
        answers: list[str] = []
        plain.on_connect = lambda c, u, f, reason, p: answers.append(reason.getName())
        plain.connect("127.0.0.1", broker.rendered.tls_port)
        for _ in range(20):  # bounded: 2 s of network loop; a TLS listener never answers plain CONNECT
            if plain.loop(0.1) != mqtt.MQTT_ERR_SUCCESS or answers:
                break
        plain.disconnect()
        assert answers == [], "plain MQTT was accepted on the TLS port"

        other_ca = make_certificates(tmp_path / "other", ca_name="someone else").cafile
        with pytest.raises(ssl.SSLError):
            Recorder(broker.rendered.tls_port, account.username, account.password, tls_ca=other_ca).connect()
    finally:
        broker.stop()


def test_madoguchi_broker_renders_the_sites_devices_and_keeps_their_passwords(tmp_path, capsys):
    api = make_api(tmp_path / "data")  # devices kiosk-1 and display-1
    api.services.accounts.add_device("display-2", DeviceKind.DISPLAY, api.clock.now())
    api.services.accounts.add_device("display-old", DeviceKind.DISPLAY, api.clock.now())
    api.services.accounts.revoke_device("display-old")
    api.services.close()
    out, port = tmp_path / "broker", free_port()
    argv = ["broker", "--site", SITE, "--out", str(out), "--data-dir", str(tmp_path / "data"), "--port", str(port),
            "--persistence-dir", str(tmp_path / "mosquitto"), "--run-as", getpass.getuser()]
    assert main(argv) == 0
    acl = (out / "acl").read_text()
    users = [line.split()[1] for line in acl.splitlines() if line.startswith("user ")]
    assert users == [SERVER_USER, "display-1", "display-2", "kiosk-1"], "revoked devices get no broker user"
    passwords = {p.stem: p.read_text().strip() for p in (out / "credentials").iterdir()}
    assert set(passwords) == set(users)
    assert all(stat.S_IMODE((out / "credentials" / f"{u}.password").stat().st_mode) == 0o600 for u in users)
    passwd = (out / "passwd").read_text()
    assert not [p for p in passwords.values() if p in passwd], "passwords are hashed in the broker's file"

    assert main(argv) == 0  # rendering again keeps every account's password
    assert {p.stem: p.read_text().strip() for p in (out / "credentials").iterdir()} == passwords

    import madoguchi.server.mqtt.mosquitto as mosquitto
    rendered = mosquitto.RenderedBroker(out, port, out / "mosquitto.conf", out / "acl", out / "passwd", {})
    broker = Mosquitto(rendered)
    broker.start()
    try:
        assert connack(port, "display-2", passwords["display-2"]) == "Success"
        assert connack(port, "display-old", "anything") == "Not authorized", "a revoked display has no account"
    finally:
        broker.stop()

    capsys.readouterr()
    assert main(["broker", "--site", SITE, "--out", str(tmp_path / "x"), "--data-dir", str(tmp_path / "none")]) == 2
    assert "no database" in capsys.readouterr().err
    assert main([*argv[:7], "--bind", "0.0.0.0"]) == 2
    assert "TLS" in capsys.readouterr().err
    certs = make_certificates(tmp_path / "certs")
    tls_out = tmp_path / "tls-broker"
    assert main(["broker", "--site", SITE, "--out", str(tls_out), "--data-dir", str(tmp_path / "data"),
                 "--bind", "0.0.0.0", "--tls-port", "8884", "--certfile", str(certs.certfile),
                 "--keyfile", str(certs.keyfile), "--cafile", str(certs.cafile)]) == 0
    config = (tls_out / "mosquitto.conf").read_text()
    assert "listener 1883 127.0.0.1" in config and "listener 8884 0.0.0.0" in config
    assert f"certfile {certs.certfile}" in config and config.count("use_username_as_clientid true") == 2
    assert main(["broker", "--site", SITE, "--out", str(tls_out), "--data-dir", str(tmp_path / "data"),
                 "--bind", "0.0.0.0", "--certfile", str(certs.certfile)]) == 2
    assert "all three" in capsys.readouterr().err
