"""Printing through python-escpos to the real TCP virtual printer: pixels, QR, faults, reprint (issue 4)."""

from __future__ import annotations

import time

import pytest
import zxingcpp

from madoguchi.hardware.printer import EscposTicketPrinter, check_ready
from madoguchi.hardware.printer_status import (
    BLOCKING,
    CoverOpenError,
    PaperEndError,
    PrinterError,
    PrinterNoAnswerError,
    PrinterNotFoundError,
    PrinterOfflineError,
    PrinterStatus,
)
from madoguchi.hardware.ticket_render import render_ticket
from madoguchi.hardware.virtual_printer import VirtualPrinter
from tests.hardware.regenerate_golden import CASES

CONTENT, _ = CASES["ticket-ja-576"]
# No wall-clock thresholds here (print times are measured in tests/bench): the confirmation timeout is
# long, so a driver that waited for it instead of noticing a fault would overrun HANG_GUARD_S by far.
CONFIRM_TIMEOUT_S = 60.0
HANG_GUARD_S = CONFIRM_TIMEOUT_S / 3


def make_printer(virtual_printer: VirtualPrinter, **options: float) -> EscposTicketPrinter:
    return EscposTicketPrinter(virtual_printer.uri, status_timeout_s=0.5, print_timeout_s=CONFIRM_TIMEOUT_S,
                               **options)


def test_a_japanese_ticket_comes_back_pixel_identical_and_its_qr_decodes_to_the_status_url(virtual_printer):
    rendered = render_ticket(CONTENT, 576)

    receipt = make_printer(virtual_printer).print_ticket(CONTENT)

    [ticket] = virtual_printer.wait_for_tickets(1)
    assert ticket.complete and ticket.path is not None and ticket.path.exists()
    (header_y, header), (footer_y, footer) = ticket.rasters
    assert header.tobytes() == rendered.header.tobytes() and header.size == rendered.header.size
    assert footer.tobytes() == rendered.footer.tobytes()
    preview = rendered.preview()
    printed_part = ticket.image.crop((0, 0, preview.width, preview.height))
    assert printed_part.tobytes() == preview.tobytes(), "the printed ticket differs from the rendered one"
    [qr] = ticket.qr_codes
    qr_height = preview.height - rendered.header.height - rendered.footer.height  # as the preview draws it
    assert header_y == 0 and qr.y == rendered.header.height and footer_y == qr.y + qr_height
    assert qr.data == CONTENT.status_url.encode() and qr.module_dots == rendered.qr.module_dots
    decoded = [code.text for code in zxingcpp.read_barcodes(ticket.image.convert("L"))]
    assert decoded == [CONTENT.status_url]
    assert receipt.bytes_sent > 10_000 and receipt.health_after.status is PrinterStatus.ONLINE


def test_health_reports_each_fault_by_name(virtual_printer):
    printer = make_printer(virtual_printer)
    assert printer.health().status is PrinterStatus.ONLINE
    # (status, blocks printing): near the end of the roll a ticket still prints, the rest stop it
    expected = {"paper_near_end": (PrinterStatus.PAPER_NEAR_END, False),
                "paper_end": (PrinterStatus.PAPER_END, True), "cover_open": (PrinterStatus.COVER_OPEN, True),
                "offline": (PrinterStatus.OFFLINE, True), "no_answer": (PrinterStatus.NO_ANSWER, True)}
    for fault, (status, blocking) in expected.items():
        virtual_printer.set_fault(fault)
        health = printer.health()
        assert (health.status, health.blocking) == (status, blocking), fault
        assert (health.status in BLOCKING) is blocking, f"the kiosk's check disagrees for {fault}"
        virtual_printer.clear_fault()


@pytest.mark.parametrize(("fault", "error"), [
    ("paper_end", PaperEndError),
    ("cover_open", CoverOpenError),
    ("offline", PrinterOfflineError),
    ("no_answer", PrinterNoAnswerError),
])
def test_each_fault_raises_its_own_error_before_printing_and_nothing_prints(virtual_printer, fault, error):
    virtual_printer.set_fault(fault)
    printer = make_printer(virtual_printer)

    started = time.monotonic()
    with pytest.raises(error) as caught:
        printer.print_ticket(CONTENT)

    assert time.monotonic() - started < HANG_GUARD_S, "a fault must not make the driver hang"
    assert caught.value.phase == "before"
    assert caught.value.message_ja
    virtual_printer.clear_fault()
    assert virtual_printer.tickets == [] and virtual_printer.bytes_received < 100
    with pytest.raises(error):
        check_ready(_FaultyOnce(error))


class _FaultyOnce:
    """check_ready only needs health(): report the error's status once."""

    def __init__(self, error: type[PrinterError]) -> None:
        self.error = error

    def health(self):  # type: ignore[no-untyped-def]
        from madoguchi.hardware.printer_status import PrinterHealth

        return PrinterHealth(frozenset({self.error.status}))


def test_paper_near_end_still_prints_and_says_so(virtual_printer):
    virtual_printer.set_fault("paper_near_end")
    receipt = make_printer(virtual_printer).print_ticket(CONTENT)
    assert receipt.health_before.status is PrinterStatus.PAPER_NEAR_END
    assert virtual_printer.wait_for_tickets(1)[0].complete


def test_paper_running_out_mid_ticket_is_detected_after_and_a_reprint_completes_it(virtual_printer):
    printer = make_printer(virtual_printer)
    virtual_printer.fault_during_next_ticket("paper_end")

    started = time.monotonic()
    with pytest.raises(PaperEndError) as caught:
        printer.print_ticket(CONTENT)
    assert caught.value.phase == "after"
    assert time.monotonic() - started < HANG_GUARD_S, "found by polling, not by the confirmation timeout"
    [half] = virtual_printer.wait_for_tickets(1)
    assert not half.complete and half.path is not None and half.path.name.endswith("-incomplete.png")

    virtual_printer.clear_fault("paper_end")
    printer.reprint_last()
    full = virtual_printer.wait_for_tickets(2)[1]
    assert full.complete
    assert full.rasters[0][1].tobytes() == render_ticket(CONTENT, 576).header.tobytes()


def test_a_printer_that_stops_answering_while_printing_is_reported_without_hanging(virtual_printer):
    printer = make_printer(virtual_printer, send_timeout_s=1.0)
    virtual_printer.fault_during_next_ticket("no_answer")
    started = time.monotonic()
    with pytest.raises(PrinterNoAnswerError) as caught:
        printer.print_ticket(CONTENT)
    assert caught.value.phase == "after"
    assert time.monotonic() - started < HANG_GUARD_S, "found by the silence limit, not the confirmation timeout"


def test_a_slow_printer_still_confirms_the_ticket(virtual_printer):
    virtual_printer.set_fault("slow")
    virtual_printer.slow_delay_s = 0.2
    started = time.monotonic()
    receipt = make_printer(virtual_printer).print_ticket(CONTENT)
    assert time.monotonic() - started >= 4 * 0.2  # raster, QR, raster, cut
    assert receipt.health_after.status is PrinterStatus.ONLINE
    assert virtual_printer.wait_for_tickets(1)[0].complete


def test_an_unreachable_printer_is_reported_at_once():
    printer = EscposTicketPrinter("tcp://127.0.0.1:1", status_timeout_s=0.5)
    with pytest.raises(PrinterNotFoundError):
        printer.print_ticket(CONTENT)
    assert printer.health().status is PrinterStatus.NO_ANSWER


def test_reprint_without_a_previous_ticket_says_so(virtual_printer):
    with pytest.raises(PrinterError, match="nothing to reprint"):
        make_printer(virtual_printer).reprint_last()


@pytest.mark.parametrize("width", [512, 384])
def test_narrower_printers_get_a_ticket_of_their_width(tmp_path, width):
    with VirtualPrinter(tmp_path, width_dots=width) as virtual_printer:
        EscposTicketPrinter(virtual_printer.uri, width_dots=width, status_timeout_s=0.5).print_ticket(CONTENT)
        [ticket] = virtual_printer.wait_for_tickets(1)
    assert ticket.image.width == width
    assert ticket.rasters[0][1].tobytes() == render_ticket(CONTENT, width).header.tobytes()
    assert [c.text for c in zxingcpp.read_barcodes(ticket.image.convert("L"))] == [CONTENT.status_url]
