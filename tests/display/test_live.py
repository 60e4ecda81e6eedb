"""Acceptance: a live server and a real mosquitto with the generated ACL; ``madoguchi display`` as its own
process with the display's own credentials. What it drew is read back from its screenshot.
"""

from __future__ import annotations

import json

import pygame

from madoguchi.common.protocol import calls_topic, device_status_topic, state_topic
from madoguchi.display.layout import MIN_NUMBER_SHARE, compute
from madoguchi.display.render import GOLD, NUMBER_LANGUAGE, Renderer
from tests.display.conftest import DisplayProcess, display_config
from tests.mqtt.broker import SERVER_USER, SITE
from tests.mqtt.conftest import recorder_for


def issue_and_call(server, counter: str = "c1", procedure: str = "juminhyo") -> dict:
    with server.client("kiosk") as kiosk, server.client("counter") as staff:
        assert kiosk.post("/api/v1/tickets", json={"procedures": [procedure]}).status_code == 201
        answer = staff.post(f"/api/v1/counters/{counter}/call-next")
        assert answer.status_code == 200, answer.text
        ticket = answer.json()["ticket"]
        assert ticket is not None, f"{counter} called nobody"
        return ticket


def server_seq(server) -> int:
    with server.client("kiosk") as kiosk:
        return int(kiosk.get("/api/v1/state").json()["seq"])


def number_drawn(display: DisplayProcess, info: dict) -> None:
    """The number's pixels in the saved frame are exactly the number rendered alone, at ≥ 15 % height."""
    width, height = info["size"]
    x, y, w, h = info["number_rect"]
    assert h >= MIN_NUMBER_SHARE * height, f"number {h}px high on a {height}px screen"
    frame = pygame.image.load(str(display.screens / "screen.png"))
    expected = pygame.Surface((width, height))
    expected.fill(GOLD)
    renderer = Renderer(compute(width, height))
    drawn = renderer._ink(expected, info["main"]["number"], NUMBER_LANGUAGE, (0, 0, 0), renderer.layout.number)
    assert list(drawn) == [x, y, w, h]
    rect = pygame.Rect(x, y, w, h)
    same = pygame.image.tobytes(frame.subsurface(rect), "RGB") == pygame.image.tobytes(expected.subsurface(rect),
                                                                                        "RGB")
    assert same, "the frame's number area differs from the number itself"


def test_a_call_through_the_api_is_drawn_large_and_announced_once(tmp_path, broker, server, displays):
    display = DisplayProcess(broker, tmp_path / "display", display_config(tmp_path, spoken_languages=["ja"]))
    displays.append(display.start())
    display.wait_screen(lambda s: s["trusted"], 20, "the board showing the live state")

    ticket = issue_and_call(server, "c3")
    info = display.wait_screen(lambda s: s["main"] and s["main"]["number"] == ticket["display_number"]
                               and s["highlighted"], 10, f"number {ticket['display_number']} highlighted")
    assert info["main"]["counter"] == "c3" and info["main"]["recall"] is False
    number_drawn(display, info)

    spoken = _wait_announced(display, 1)
    assert spoken[0]["number"] == ticket["number"] and spoken[0]["played"] is True
    assert spoken[0]["phrases"]["ja"] == f"受付番号 {ticket['number']}番の方、3番窓口へお越しください。"
    assert (display.audio / spoken[0]["wav"]).stat().st_size > 48_000 * 2 * 3  # chime + speech, > 3 s

    # its own retained status: online, with the audio state and the last state seen
    watcher = recorder_for(broker, "display-2").connect(device_status_topic(SITE, "display-1"))
    try:
        status = watcher.wait_for(lambda ms: ms[-1:] and ms[-1].json().get("last_state_seq"), 10,
                                  f"status with the last state seen: {[m.payload for m in watcher.messages]}")
        body = watcher.messages[-1].json()
        assert watcher.messages[-1].retain and body["online"] is True and body["audio"] == "ok", status
        display.stop()
        watcher.wait_for(lambda ms: ms[-1].json()["online"] is False, 10, "offline on a clean stop")
    finally:
        watcher.disconnect()


def test_the_displays_credentials_cannot_publish_calls_or_state(broker):
    display = recorder_for(broker, "display-1").connect(state_topic(SITE), calls_topic(SITE))
    try:
        fake_call = json.dumps({"v": 1, "seq": 999999, "site": SITE, "number": 1})
        for topic in (calls_topic(SITE), state_topic(SITE)):
            assert display.wait_for_ack(display.publish(topic, fake_call)) == "Not authorized"
        allowed = display.publish(device_status_topic(SITE, "display-1"), "{}")
        assert display.wait_for_ack(allowed) in {"Success", "No matching subscribers"}  # accepted
        assert not display.on(calls_topic(SITE)), "the broker delivered a display's forged call"
    finally:
        display.disconnect()


def test_broker_restart_shows_the_notice_then_recovers_without_announcing_again(tmp_path, broker, server,
                                                                                 displays):
    display = DisplayProcess(broker, tmp_path / "display", display_config(tmp_path, spoken_languages=["ja"]))
    displays.append(display.start())
    display.wait_screen(lambda s: s["trusted"], 20, "the live board")
    first = issue_and_call(server, "c1")
    display.wait_screen(lambda s: s["main"] and s["main"]["number"] == first["display_number"], 10)
    _wait_announced(display, 1)
    seq_before = server_seq(server)

    broker.stop()
    display.wait_screen(lambda s: s["notice"], 5, "the notice while the broker is away")
    broker.start()
    recovered = display.wait_screen(lambda s: s["trusted"] and (s["state_seq"] or 0) >= seq_before, 5,
                                    "recovery within 5 s of the broker's return")
    assert recovered["main"]["number"] == first["display_number"]

    second = issue_and_call(server, "c2")
    display.wait_screen(lambda s: s["main"] and s["main"]["number"] == second["display_number"], 30,
                        "a call after the outage")
    spoken = _wait_announced(display, 2)
    assert [s["number"] for s in spoken] == [first["number"], second["number"]], "each call said exactly once"


def test_a_display_started_late_shows_the_present_and_announces_no_history(tmp_path, broker, server, displays):
    calls = [issue_and_call(server, counter) for counter in ("c1", "c2", "c3")]
    display = DisplayProcess(broker, tmp_path / "late", display_config(tmp_path), size="1080x1920")
    displays.append(display.start())
    info = display.wait_screen(lambda s: s["trusted"] and s["main"] is not None, 20, "the current state")
    assert info["main"]["number"] == calls[-1]["display_number"] and not info["highlighted"]
    assert {c["display_number"] for c in calls} <= set(info["recent"])
    assert display.announcements() == [], "history must not be announced"


def _wait_announced(display: DisplayProcess, count: int) -> list[dict]:
    from tests.live import wait_until
    wait_until(lambda: len(display.announcements()) >= count, 40, f"{count} announcement(s)", interval_s=0.2)
    return display.announcements()


def test_the_server_going_away_puts_up_the_notice(tmp_path, broker, server, displays):
    display = DisplayProcess(broker, tmp_path / "display", display_config(tmp_path), extra=("--no-audio",))
    displays.append(display.start())
    display.wait_screen(lambda s: s["trusted"], 20, "the live board")
    server.stop()  # a clean stop publishes the server's retained online: false
    info = display.wait_screen(lambda s: s["notice"], 10, "the notice once the server is gone")
    assert info["highlighted"] is False and info["audio"] == "off"


def test_refused_credentials_are_not_retried_and_the_board_says_it_is_not_live(tmp_path, broker, displays):
    display = DisplayProcess(broker, tmp_path / "display", display_config(tmp_path, rotate_s=2),
                             password="wrong-password", extra=("--no-audio",))
    displays.append(display.start())
    info = display.wait_screen(lambda s: s["notice"], 20, "the notice")
    assert info["state_seq"] is None
    from tests.live import wait_until
    wait_until(lambda: "refused user 'display-1'" in display.log(), 10, "the refusal in the log")
    # the language turns every 2 s: four more frames leave paho's back-off (0.5–4 s) time to retry
    display.wait_screen(lambda s: s["frame"] >= info["frame"] + 4, 20, "four more frames")
    assert display.log().count("refused user") == 1, "tried again after a refusal"


def test_a_killed_display_is_marked_offline_by_its_last_will(tmp_path, broker, displays):
    display = DisplayProcess(broker, tmp_path / "display", display_config(tmp_path), extra=("--no-audio",))
    displays.append(display.start())
    watcher = recorder_for(broker, "display-2").connect(device_status_topic(SITE, "display-1"))
    try:
        watcher.wait_for(lambda ms: ms[-1:] and ms[-1].json()["online"] is True, 20, "the display's birth")
        display.process.kill()  # SIGKILL: no clean stop, only the broker's will speaks for it
        display.process.wait(10)
        watcher.wait_for(lambda ms: ms[-1].json()["online"] is False, 10, "the last will")
        assert watcher.messages[-1].json()["device"] == "display-1"
    finally:
        watcher.disconnect()


def test_a_message_that_breaks_the_contract_is_ignored_and_the_board_goes_on(tmp_path, broker, server, displays):
    display = DisplayProcess(broker, tmp_path / "display", display_config(tmp_path), extra=("--no-audio",))
    displays.append(display.start())
    display.wait_screen(lambda s: s["trusted"], 20, "the live board")
    rogue = recorder_for(broker, SERVER_USER).connect()
    try:
        for topic in (calls_topic(SITE), state_topic(SITE)):
            rogue.wait_for_ack(rogue.publish(topic, '{"v": 1, "seq": "not a number"}'))
        rogue.wait_for_ack(rogue.publish(calls_topic(SITE), "\xff not json"))
    finally:
        rogue.disconnect()
    ticket = issue_and_call(server, "c2")
    display.wait_screen(lambda s: s["main"] and s["main"]["number"] == ticket["display_number"], 10,
                        "the next real call")
    assert display.log().count("does not match the contract") == 3
