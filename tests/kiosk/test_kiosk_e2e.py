"""The real Kivy kiosk driven by touches under Xvfb, against a live server, the virtual printer and the
virtual My Number card behind real pcscd + vpcd."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import zxingcpp

from madoguchi.hardware.cardreader import PcscCardReader
from madoguchi.hardware.printer import EscposTicketPrinter
from madoguchi.hardware.ticket_render import render_ticket
from madoguchi.hardware.virtual_printer import VirtualPrinter
from madoguchi.kiosk.flow import State
from madoguchi.kiosk.printing import ticket_content
from tests.hardware.conftest import assert_card_log_is_clean, make_card
from tests.kiosk.driver import Driver
from tests.kiosk.kiosk_setup import running_kiosk
from tests.live import LiveServer
from tests.personal_data import TEST_HOLDER_ADDRESS, TEST_HOLDER_NAME, TEST_PIN, leaked_in

pytestmark = pytest.mark.usefixtures("kivy_window")


@pytest.fixture
def printer(tmp_path: Path):  # type: ignore[no-untyped-def]
    virtual = VirtualPrinter(tmp_path / "printed").start()
    yield virtual
    virtual.stop()


@pytest.fixture
def reader(pcscd):  # type: ignore[no-untyped-def]
    card_reader = PcscCardReader(pcscd.reader_name, transmit_timeout_s=2.0)
    yield card_reader
    card_reader.close()


def screen_texts(driver: Driver) -> str:
    from kivy.uix.label import Label

    # the text as given (labels may have inserted line breaks between phrases)
    return "\n".join(getattr(w, "source_text", w.text) for w in driver.controller.root.walk() if isinstance(w, Label))


def answer_tennyu(driver: Driver, groups: tuple[str, ...], yes: set[str]) -> None:
    driver.tap("start")
    driver.wait_state(State.LANGUAGE)
    driver.tap("lang:ja")
    driver.tap("purpose:moving")
    driver.tap("life_event:tennyu")
    driver.wait_state(State.HOUSEHOLD_COUNT)
    driver.tap(f"count:{len(groups)}")
    for group in groups:
        driver.tap(f"age:{group}")
    while driver.controller.flow.state is State.QUESTION:
        question = driver.controller.flow.current_question
        assert question is not None
        driver.tap("answer:yes" if question.id in yes else "answer:no")
    driver.wait_state(State.PLAN)


def test_tennyu_with_household_pin_and_card_gives_the_servers_number_on_paper(
        live_server: LiveServer, printer: VirtualPrinter, reader: PcscCardReader, pcscd, tmp_path: Path) -> None:
    card = make_card(pcscd)
    try:
        run_tennyu_visit(live_server, printer, reader, card, tmp_path)
    finally:
        card.remove()
    assert_card_log_is_clean(card)


def run_tennyu_visit(live_server: LiveServer, printer: VirtualPrinter, reader: PcscCardReader, card,  # type: ignore[no-untyped-def]
                     tmp_path: Path) -> None:
    with running_kiosk(live_server.url, live_server.tokens["kiosk"], printer=EscposTicketPrinter(printer.uri),
                       reader=reader, status_file=tmp_path / "status.json") as driver:
        driver.wait_state(State.ATTRACT)
        answer_tennyu(driver, ("age_19_64", "age_6_15", "age_75_plus"), yes={"kokuho"})
        plan = screen_texts(driver)
        for step in ("住民異動届（転入）", "転入学", "国民健康保険", "後期高齢者医療", "児童手当"):
            assert step in plan, f"{step} missing from the plan screen"
        driver.tap("confirm_plan")
        assert reader.wait_for_removal(1.0), "the virtual reader already holds a card: is a demo running here?"
        driver.tap("use_card")
        driver.wait_state(State.CARD_INSERT)
        card.insert()
        driver.wait_state(State.PIN)
        assert "あと3回" in screen_texts(driver)
        for digit in TEST_PIN:
            driver.tap(f"pin:{digit}")
        driver.tap("pin:ok")
        driver.wait_state(State.CARD_CONFIRM, timeout_s=10)
        shown = screen_texts(driver)
        assert TEST_HOLDER_NAME in shown and TEST_HOLDER_ADDRESS in shown  # shown back to the resident
        driver.tap("confirm_card")
        driver.wait_state(State.TICKET, timeout_s=20)
        assert driver.controller.flow.visit.printed and driver.controller.flow.visit.card is None
        on_screen = driver.widget("ticket_number").text
        ticket = driver.controller.flow.visit.ticket
        catalog = driver.controller.runner.catalog
        status = json.loads((tmp_path / "status.json").read_text(encoding="utf-8"))
        driver.tap("done")
        driver.wait_state(State.ATTRACT)
    assert status["printer"] == "online" and not leaked_in(json.dumps(status))

    [printed] = printer.wait_for_tickets(1)
    assert printed.complete and printed.path is not None and printed.path.exists()
    [url] = [code.text for code in zxingcpp.read_barcodes(printed.image.convert("L"))]
    public = httpx.get(url.replace("/t/", "/api/v1/public/tickets/"), timeout=10).json()
    assert public["display_number"] == on_screen
    assert httpx.get(url, timeout=10).status_code == 200  # the QR opens the status page
    # the printed header is pixel for pixel the ticket of the number the server holds for this QR
    expected = ticket_content(ticket, catalog, "ja").model_copy(update={"display_number": public["display_number"]})
    preview = render_ticket(expected, 576).preview()
    assert printed.image.crop((0, 0, preview.width, preview.height)).tobytes() == preview.tobytes()
    assert not leaked_in(printed.image.tobytes().decode("latin-1"))

    # the server holds the card data for that visit, and only for it
    counter = live_server.client("counter@c4" if "counter@c4" in live_server.tokens else "counter")
    called = counter.post("/api/v1/counters/c4/call-next").json()["ticket"]
    assert called["display_number"] == on_screen and called["has_card"]
    read = counter.get("/api/v1/counters/c4/card").json()
    assert read["card"]["name"] == TEST_HOLDER_NAME and read["ticket_id"] == called["id"]
    other = live_server.client("kiosk").post("/api/v1/tickets", json={"procedures": ["juminhyo"]}).json()
    simple = live_server.client("counter@c1" if "counter@c1" in live_server.tokens else "counter")
    called_other = simple.post("/api/v1/counters/c1/call-next").json()["ticket"]
    assert called_other["id"] == other["id"] != called["id"] and not called_other["has_card"]
    assert simple.get("/api/v1/counters/c1/card").status_code == 404


def to_pin_screen(driver: Driver, card, reader: PcscCardReader) -> None:  # type: ignore[no-untyped-def]
    driver.wait_state(State.ATTRACT)
    driver.tap("start")
    driver.tap("lang:ja")
    driver.tap("purpose:simple")
    driver.tap("procedure:juminhyo")
    driver.tap("confirm_plan")
    assert reader.wait_for_removal(1.0), "the virtual reader already holds a card: is a demo running here?"
    driver.tap("use_card")
    driver.wait_state(State.CARD_INSERT)
    card.insert()


def type_pin(driver: Driver, pin: str) -> None:
    for digit in pin:
        driver.tap(f"pin:{digit}")
    driver.tap("pin:ok")


def verifies_with_a_pin(card) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for c in card.commands() if c[:4] == bytes.fromhex("00200080") and len(c) == 9)


def test_wrong_pin_twice_warns_of_the_last_try_sends_nothing_then_a_blocked_card_goes_to_the_counter(
        live_server: LiveServer, reader: PcscCardReader, pcscd, caplog: pytest.LogCaptureFixture) -> None:
    card = make_card(pcscd)
    try:
        with running_kiosk(live_server.url, live_server.tokens["kiosk"], reader=reader) as driver:
            to_pin_screen(driver, card, reader)
            driver.wait_state(State.PIN)
            type_pin(driver, "0000")
            driver.wait_for(lambda: driver.controller.flow.visit.wrong_pin, "wrong PIN shown")
            assert "暗証番号が違います" in screen_texts(driver) and "あと2回" in screen_texts(driver)
            type_pin(driver, "9999")
            driver.wait_for(lambda: driver.controller.flow.visit.tries_left == 1, "one try left shown")
            assert "あと1回" in screen_texts(driver)
            assert verifies_with_a_pin(card) == 2
            type_pin(driver, "1111")
            driver.wait_state(State.PIN_LAST_TRY)
            assert "ロック" in screen_texts(driver)
            driver.pump(0.5)
            assert verifies_with_a_pin(card) == 2, "a PIN went to the card before the resident confirmed"
            driver.tap("retype_pin")
            driver.wait_state(State.PIN)
            type_pin(driver, "1111")
            driver.wait_state(State.PIN_LAST_TRY)
            driver.tap("confirm_last_try")
            driver.wait_state(State.CARD_BLOCKED, timeout_s=10)
            assert verifies_with_a_pin(card) == 3 and card.blocked
            assert "窓口" in screen_texts(driver)
            driver.tap("skip_card")
            driver.wait_state(State.TICKET, timeout_s=20)
            driver.tap("done")
            driver.wait_state(State.ATTRACT)
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for pin in ("0000", "9999", "1111", TEST_PIN):
            assert pin not in logged
    finally:
        card.remove()
    assert_card_log_is_clean(card)


def test_an_already_blocked_card_is_refused_before_any_pin(live_server: LiveServer, reader: PcscCardReader,
                                                          pcscd) -> None:
    card = make_card(pcscd, tries_left=0)
    try:
        with running_kiosk(live_server.url, live_server.tokens["kiosk"], reader=reader) as driver:
            to_pin_screen(driver, card, reader)
            driver.wait_state(State.CARD_BLOCKED, timeout_s=10)
            assert "pin:1" not in driver.controller.widgets()
            driver.tap("back")
            driver.wait_state(State.CARD_OFFER)
    finally:
        card.remove()
    assert verifies_with_a_pin(card) == 0
