"""The device registry behind the board's alerts: what counts as a change staff would see, the answered
「係員を呼ぶ」, silence, and reports arriving out of order (the broker echoing a kiosk's own status)."""

from __future__ import annotations

import datetime as dt

from madoguchi.common.protocol import DeviceStatusPayload
from madoguchi.server.service.devices import DeviceRegistry

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
STALE = dt.timedelta(seconds=30)


def status(at_s: float, device: str = "kiosk-1", **fields: object) -> DeviceStatusPayload:
    return DeviceStatusPayload(device=device, online=True, at=T0 + dt.timedelta(seconds=at_s), **fields)


def kinds(registry: DeviceRegistry, now_s: float) -> list[tuple[str, str]]:
    return [(a.device, a.kind) for a in registry.alerts(T0 + dt.timedelta(seconds=now_s), {"kiosk-1", "display-1"})]


def test_a_heartbeat_that_changes_nothing_wakes_no_board_but_a_printer_fault_does():
    told: list[int] = []
    registry = DeviceRegistry(STALE, on_change=lambda: told.append(1))
    assert registry.report(status(0, printer="online"))
    assert not registry.report(status(10, printer="online"))
    assert registry.report(status(20, printer="paper_end"))
    assert len(told) == 2
    assert kinds(registry, 21) == [("kiosk-1", "printer")]


def test_an_answered_call_stays_answered_until_the_kiosk_calls_again():
    registry = DeviceRegistry(STALE)
    registry.report(status(0, call_staff=True))
    assert kinds(registry, 1) == [("kiosk-1", "call_staff")]
    assert registry.acknowledge("kiosk-1")
    assert not registry.acknowledge("kiosk-1")  # nothing left to answer
    registry.report(status(10, call_staff=True))  # the same resident, still waiting: answered
    assert kinds(registry, 11) == []
    registry.report(status(20, call_staff=False))
    registry.report(status(25, call_staff=True))  # a new call
    assert kinds(registry, 26) == [("kiosk-1", "call_staff")]
    assert registry.alerts(T0 + dt.timedelta(seconds=26), {"kiosk-1"})[0].since == T0 + dt.timedelta(seconds=25)


def test_an_older_report_is_ignored_and_unknown_devices_raise_no_alert():
    registry = DeviceRegistry(STALE)
    registry.report(status(10, printer="paper_end"))
    assert not registry.report(status(5, printer="online"))  # the broker's echo of an earlier report
    assert kinds(registry, 11) == [("kiosk-1", "printer")]
    registry.report(status(10, device="revoked-kiosk", call_staff=True))
    assert kinds(registry, 11) == [("kiosk-1", "printer")]


def test_silence_past_the_limit_is_an_alert_and_the_next_report_ends_it_and_tells_the_boards():
    told: list[int] = []
    registry = DeviceRegistry(STALE, on_change=lambda: told.append(1))
    registry.report(status(0, device="display-1", audio="ok"))
    assert registry.next_stale_at(T0) == T0 + STALE
    assert kinds(registry, 30) == []
    assert kinds(registry, 31) == [("display-1", "offline")]
    assert registry.next_stale_at(T0 + dt.timedelta(seconds=31)) is None  # already silent: nothing to wait for
    assert registry.report(status(40, device="display-1", audio="ok"))  # speaks again: the boards redraw
    assert kinds(registry, 41) == [] and len(told) == 2
    registry.report(DeviceStatusPayload(device="display-1", online=False, at=T0 + dt.timedelta(seconds=50)))
    assert kinds(registry, 51) == [("display-1", "offline")]  # its last will, at once


def test_the_silent_devices_are_those_past_the_limit_that_did_not_say_offline():
    registry = DeviceRegistry(STALE)
    registry.report(status(0, device="display-1"))
    registry.report(status(20))
    registry.report(DeviceStatusPayload(device="display-2", online=False, at=T0))
    assert registry.silent(T0 + dt.timedelta(seconds=31)) == {"display-1"}
    assert registry.silent(T0 + dt.timedelta(seconds=51)) == {"display-1", "kiosk-1"}
