"""The ticket printer driver: render, check status, print raster + native QR + cut, confirm, reprint.

A print job is built once with python-escpos (into its Dummy printer, so the bytes can be counted,
kept for a reprint and sent in one write) and then sent over the real transport:
  ESC @ · GS v 0 header · ESC a 1 · GS ( k QR · ESC a 0 · GS v 0 footer · ESC d 6 · GS V 0
Images go in the default raster mode (GS v 0), cut in slices of at most 900 rows: python-escpos'
"graphics" mode (GS ( L) wraps a 2-byte length on large images and corrupts them silently.

Status is read with DLE EOT 1/2/4 before sending; a blocking state raises its own error and nothing
is sent. After the job comes GS r 1, which the printer answers only once everything before it has
printed: that answer is the "printed" confirmation. While waiting for it the driver polls DLE EOT 1,
so a fault arising mid-ticket (paper runs out) is reported at once instead of after a long timeout.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from madoguchi.hardware.printer_link import PrinterLink, open_escpos, parse_printer_uri
from madoguchi.hardware.printer_status import (
    DLE_EOT_OFFLINE_CAUSE,
    DLE_EOT_PAPER,
    DLE_EOT_PRINTER,
    GS_R_PAPER,
    NO_ANSWER_HEALTH,
    OFFLINE_BIT,
    PrinterError,
    PrinterHealth,
    PrinterNoAnswerError,
    PrintNotConfirmedError,
    decode_realtime_status,
    error_for,
    is_status_answer,
)
from madoguchi.hardware.ticket import TicketContent
from madoguchi.hardware.ticket_render import RenderedTicket, render_ticket

log = logging.getLogger(__name__)

RASTER_SLICE_ROWS = 900


@dataclass(frozen=True)
class PrintReceipt:
    """What a confirmed print cost, and the health the printer reported afterwards."""

    bytes_sent: int
    seconds: float
    health_before: PrinterHealth
    health_after: PrinterHealth


class TicketPrinter(Protocol):
    """The port the kiosk uses; tests of the kiosk get a fake of this, never a bare mock."""

    def health(self) -> PrinterHealth: ...

    def print_ticket(self, content: TicketContent) -> PrintReceipt: ...

    def reprint_last(self) -> PrintReceipt: ...


def build_job(ticket: RenderedTicket) -> bytes:
    """The ESC/POS bytes for a rendered ticket, as python-escpos encodes them."""
    from escpos.constants import QR_ECLEVEL_L, QR_ECLEVEL_M
    from escpos.printer import Dummy

    printer = Dummy()
    # Give the default profile the real paper width without touching python-escpos' shared class data.
    printer.profile.profile_data = copy.deepcopy(printer.profile.profile_data)
    printer.profile.profile_data["media"]["width"]["pixels"] = ticket.width_dots
    printer.hw("INIT")
    _image(printer, ticket.header)
    printer.set(align="center")
    level = QR_ECLEVEL_M if ticket.qr.error_level == 1 else QR_ECLEVEL_L
    printer.qr(ticket.qr.data.decode("ascii"), ec=level, size=ticket.qr.module_dots, native=True)
    printer.set(align="left")
    _image(printer, ticket.footer)
    printer.cut()
    return printer.output


def _image(printer, image) -> None:  # type: ignore[no-untyped-def]
    for top in range(0, image.height, RASTER_SLICE_ROWS):
        part = image.crop((0, top, image.width, min(image.height, top + RASTER_SLICE_ROWS)))
        printer.image(part, impl="bitImageRaster", fragment_height=RASTER_SLICE_ROWS)


class EscposTicketPrinter:
    """A real (or virtual) ESC/POS printer at a URI. Each call opens its own short connection."""

    def __init__(self, uri: str, *, width_dots: int = 576, status_timeout_s: float = 1.5,
                 print_timeout_s: float = 20.0, send_timeout_s: float = 10.0,
                 poll_interval_s: float = 0.5) -> None:
        self.address = parse_printer_uri(uri)
        self.width_dots = width_dots
        self.status_timeout_s = status_timeout_s
        self.print_timeout_s = print_timeout_s
        self.send_timeout_s = send_timeout_s
        self.poll_interval_s = poll_interval_s
        self._last_job: bytes | None = None
        self._lock = threading.Lock()  # one job at a time on the one printer

    # -- status -------------------------------------------------------------------------------

    def health(self) -> PrinterHealth:
        """The printer's state now; never raises for a fault, NO_ANSWER when it cannot be reached."""
        try:
            with self._lock:
                link = self._connect()
                try:
                    return self._query_health(link)
                finally:
                    link.close()
        except PrinterError as exc:
            return PrinterHealth(NO_ANSWER_HEALTH.conditions, detail=str(exc))

    def _connect(self) -> PrinterLink:
        device = open_escpos(self.address, self.send_timeout_s)
        return PrinterLink(device, self.address.kind, self.send_timeout_s)

    def _query_health(self, link: PrinterLink) -> PrinterHealth:
        answers = []
        for command in (DLE_EOT_PRINTER, DLE_EOT_OFFLINE_CAUSE, DLE_EOT_PAPER):
            answer = link.ask(command, is_status_answer, self.status_timeout_s)
            if answer is None:
                return PrinterHealth(NO_ANSWER_HEALTH.conditions,
                                     detail=f"no answer to DLE EOT {command[-1]} within "
                                            f"{self.status_timeout_s:g} s")
            answers.append(answer)
        return decode_realtime_status(*answers)

    # -- printing -----------------------------------------------------------------------------

    def print_ticket(self, content: TicketContent) -> PrintReceipt:
        """Renders and prints one ticket; returns only once the printer confirmed it printed."""
        job = build_job(render_ticket(content, self.width_dots))
        self._last_job = job  # kept (no personal data in it) so a guide can reprint after a fault
        return self.print_job(job)

    def reprint_last(self) -> PrintReceipt:
        """Sends the last ticket again, e.g. after the paper was replaced."""
        if self._last_job is None:
            raise PrinterError("nothing to reprint: no ticket was printed since start-up")
        return self.print_job(self._last_job)

    def print_job(self, job: bytes) -> PrintReceipt:
        started = time.monotonic()
        with self._lock:
            link = self._connect()
            try:
                before = self._query_health(link)
                if before.blocking:
                    raise error_for(before, "before")
                try:
                    link.send(job)
                except OSError as exc:
                    log.warning("printer %s: sending the job failed: %s", self.address, exc)
                confirmed = self._wait_until_printed(link)
                after = self._query_health(link)
                if after.blocking:
                    raise error_for(after, "after")
                if not confirmed:
                    raise PrintNotConfirmedError(
                        f"printer did not confirm printing within {self.print_timeout_s:g} s",
                        health=after, phase="after")
            finally:
                link.close()
        receipt = PrintReceipt(link.bytes_sent, time.monotonic() - started, before, after)
        log.info("printer %s: ticket printed, %d bytes in %.2f s", self.address, receipt.bytes_sent,
                 receipt.seconds)
        return receipt

    def _wait_until_printed(self, link: PrinterLink) -> bool:
        """True once GS r 1 is answered; False on timeout or as soon as the printer goes offline."""
        try:
            link.send(GS_R_PAPER)
        except OSError:
            return False
        deadline = time.monotonic() + self.print_timeout_s
        next_poll = time.monotonic() + self.poll_interval_s
        # DLE EOT is answered at once even mid-job, so polls that go unanswered mean a dead printer.
        silence_limit_s = 2 * self.status_timeout_s + self.poll_interval_s
        last_heard = time.monotonic()
        while (now := time.monotonic()) < deadline:
            if now - last_heard > silence_limit_s:
                return False
            try:
                answer = link.read_some(min(deadline, next_poll) - now)
            except OSError:
                return False
            if answer:
                last_heard = time.monotonic()
            for byte in answer:
                if not is_status_answer(byte) and not byte & 0x90:
                    return True  # the GS r answer: everything before it has printed
                if is_status_answer(byte) and byte & OFFLINE_BIT:
                    return False  # stopped mid-ticket: the caller reads why
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + self.poll_interval_s
                try:
                    link.send(DLE_EOT_PRINTER)
                except OSError:
                    return False
        return False


def check_ready(printer: TicketPrinter) -> PrinterHealth:
    """The health, raising the typed error when it blocks printing (for callers that prefer errors)."""
    health = printer.health()
    if health.blocking:
        if health.conditions == NO_ANSWER_HEALTH.conditions:
            raise PrinterNoAnswerError(health.detail or "printer does not answer", health=health)
        raise error_for(health, "before")
    return health
