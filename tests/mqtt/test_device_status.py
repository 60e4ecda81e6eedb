"""A kiosk speaks REST only; its health still reaches the site broker, retained on its own status topic."""

from __future__ import annotations

from madoguchi.common.protocol import DeviceStatusPayload, device_status_topic, parse_message
from tests.mqtt.broker import SITE

KIOSK_STATUS = device_status_topic(SITE, "kiosk-1")


def test_a_kiosk_report_is_published_retained_on_its_status_topic_for_a_late_display(site):
    assert site.api.put_status({"printer": "paper_end", "call_staff": True}).status_code == 204
    watcher = site.client("display-1", KIOSK_STATUS)  # joins afterwards: the retained copy arrives at once
    first = watcher.wait_for(lambda messages: messages[0] if messages else None, what="the kiosk's status")
    assert first.retain
    status = parse_message(SITE, first.topic, first.payload)
    assert isinstance(status, DeviceStatusPayload)
    assert (status.device, status.printer, status.call_staff) == ("kiosk-1", "paper_end", True)


def test_the_acl_lets_the_server_write_a_kiosks_status_and_no_other_device_of_the_site(site):
    acl = site.broker.rendered.acl_path.read_text(encoding="utf-8")
    server_block = acl.split("user server", 1)[1].split("\n\n", 1)[0]
    assert f"topic write {KIOSK_STATUS}" in server_block
    assert f"topic write {device_status_topic(SITE, 'display-1')}" not in server_block
