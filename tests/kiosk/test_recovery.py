"""The kiosk recovers: a server killed mid-issue gives exactly one ticket, paper end keeps the number and
QR on screen and tells staff through the device status."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image

from madoguchi.hardware.printer import EscposTicketPrinter
from madoguchi.hardware.virtual_printer import VirtualPrinter
from madoguchi.kiosk.flow import State
from tests.kiosk.driver import Driver
from tests.kiosk.kiosk_setup import running_kiosk
from tests.kiosk.test_kiosk_e2e import screen_texts
from tests.live import LiveServer

pytestmark = pytest.mark.usefixtures("kivy_window")


def to_card_offer(driver: Driver) -> None:
    driver.wait_state(State.ATTRACT)
    driver.tap("start")
    driver.tap("lang:en")
    driver.tap("purpose:simple")
    driver.tap("procedure:juminhyo")
    driver.wait_state(State.PLAN)
    driver.tap("confirm_plan")
    driver.wait_state(State.CARD_OFFER)


def waiting_in(server: LiveServer, band: str) -> int:
    state = server.client("display").get("/api/v1/state").json()
    return next(b["waiting"] for b in state["bands"] if b["id"] == band)


def test_server_killed_mid_issue_the_kiosk_recovers_and_the_resident_has_one_ticket(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "server")
    server.prepare_accounts()
    server.start()
    try:
        with running_kiosk(server.url, server.tokens["kiosk"], timeout_s=1.5) as driver:
            to_card_offer(driver)
            assert server.process is not None
            server.process.send_signal(signal.SIGSTOP)  # the request goes out and no answer comes back
            try:
                driver.tap("skip_card")
                driver.wait_state(State.ISSUE_RETRYING, timeout_s=10)
                assert "Cannot reach the server" in screen_texts(driver)
                assert driver.controller.runner.status.status.server == "unreachable"
            finally:
                server.process.send_signal(signal.SIGKILL)
                server.process.wait(10)
            key = driver.controller.flow.visit.idempotency_key
            body = driver.controller.flow.issue_body()
            server.start()
            # as if the lost attempt had been committed: the same key is sent once more before the kiosk retries
            first = server.client("kiosk").post("/api/v1/tickets", json=body, headers={"Idempotency-Key": key})
            assert first.status_code in (200, 201)
            driver.wait_state(State.TICKET, timeout_s=20)
            ticket = driver.controller.flow.visit.ticket
            assert ticket.id == first.json()["id"]
            assert driver.controller.flow.visit.recovered and "The connection is back" in screen_texts(driver)
            assert driver.controller.runner.status.status.server == "reachable"
        assert waiting_in(server, "simple") == 1
    finally:
        server.stop()


def test_paper_end_keeps_number_and_qr_on_screen_and_tells_staff(live_server: LiveServer, tmp_path: Path) -> None:
    printer = VirtualPrinter(tmp_path / "printed").start()
    try:
        printer.set_fault("paper_end")
        status_file = tmp_path / "status.json"
        with running_kiosk(live_server.url, live_server.tokens["kiosk"], status_file=status_file,
                           printer=EscposTicketPrinter(printer.uri, status_timeout_s=0.5)) as driver:
            to_card_offer(driver)
            driver.tap("skip_card")
            driver.wait_state(State.TICKET, timeout_s=20)
            visit = driver.controller.flow.visit
            assert visit.printed is False and visit.printer_status == "paper_end"
            texts = screen_texts(driver)
            assert "could not be printed" in texts and "show this screen to a member of staff" in texts
            number = driver.widget("ticket_number").text
            assert number == visit.ticket.display_number
            shot = driver.controller.capture(tmp_path / "ticket.png")
            [url] = [code.text for code in zxingcpp.read_barcodes(Image.open(shot).convert("L"))]
            assert url == visit.ticket.status_url
            public = httpx.get(url.replace("/t/", "/api/v1/public/tickets/"), timeout=10).json()
            assert public["display_number"] == number
            status = json.loads(status_file.read_text(encoding="utf-8"))
            assert status["printer"] == "paper_end" and status["device"] == "kiosk-test"
            assert driver.controller.flow.idle_timeout_s() == 180.0  # stays long enough to be shown
            driver.tap("call_staff")
            assert json.loads(status_file.read_text(encoding="utf-8"))["call_staff"] is True
            driver.tap("done")
            driver.wait_state(State.ATTRACT)
            assert json.loads(status_file.read_text(encoding="utf-8"))["call_staff"] is False
        assert printer.tickets == []  # nothing came out, and the ticket was issued once
    finally:
        printer.stop()
