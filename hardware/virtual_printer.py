"""A virtual ESC/POS network printer: real TCP on 127.0.0.1, real command decoding, named faults.

Modelled on a TM-T88 class printer on port 9100, one connection at a time:
- the receive side decodes commands as they arrive and answers DLE EOT at once (real-time), even
  while offline; with the ``no_answer`` fault it stops reading the socket altogether;
- the mechanism side executes print commands in order (raster, QR, text, feed, cut) and answers
  GS r only after everything before it has printed. While paper_end, cover_open or offline holds,
  it prints nothing and answers no GS r (a real printer holds the data; this one drops it, and the
  half-printed ticket is saved as ``…-incomplete.png`` when the connection closes);
- ``slow`` makes each mechanical step take ``slow_delay_s``; ``paper_near_end`` only changes status.
Each cut ticket is saved as ``ticket-NNNN.png`` in the output folder.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import socket
import threading
from collections.abc import Iterable
from pathlib import Path

from madoguchi.hardware.escpos_decoder import Command, EscposDecoder
from madoguchi.hardware.printer_status import (
    COVER_OPEN_BIT,
    ERROR_BIT,
    GS_R_NEAR_END_BITS,
    GS_R_PAPER_END_BITS,
    OFFLINE_BIT,
    PAPER_END_BITS,
    PAPER_END_STOP_BIT,
    PAPER_NEAR_END_BITS,
    STATUS_FIXED_VALUE,
)
from madoguchi.hardware.virtual_page import Page, PrintedTicket

log = logging.getLogger(__name__)

FAULTS = ("paper_end", "paper_near_end", "cover_open", "offline", "slow", "no_answer")
STOPPING_FAULTS = frozenset({"paper_end", "cover_open", "offline"})
_END_OF_CONNECTION = Command("END_OF_CONNECTION")


def _moves_paper(command: Command) -> bool:
    """Raster images, the QR print function (GS ( k fn 81) and the cut take mechanical time."""
    if command.name == "CODE2D":
        return command.data[1:2] == b"Q"
    return command.name in ("RASTER", "CUT")


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._lock = threading.Lock()

    def answer(self, byte: int) -> None:
        with self._lock, contextlib.suppress(OSError):
            self.sock.sendall(bytes((byte,)))


class VirtualPrinter:
    def __init__(self, out_dir: Path | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 width_dots: int = 576, slow_delay_s: float = 0.3) -> None:
        self.out_dir = out_dir
        self.host = host
        self.port = port
        self.width_dots = width_dots
        self.slow_delay_s = slow_delay_s
        self.tickets: list[PrintedTicket] = []
        self.bytes_received = 0
        self.dropped_commands = 0
        self._faults: set[str] = set()
        self._armed_fault: str | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._jobs: queue.Queue[tuple[Command, _Connection | None]] = queue.Queue()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._page = Page(width_dots)
        self._ticket_count = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> VirtualPrinter:
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            # restarted on the same folder, it goes on counting rather than overwrite earlier tickets
            self._ticket_count = max((int(match.group(1)) for path in self.out_dir.glob("ticket-*.png")
                                      if (match := re.fullmatch(r"ticket-(\d+)(?:-incomplete)?\.png", path.name))),
                                     default=0)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(4)
        listener.settimeout(0.1)
        self._listener = listener
        self.port = listener.getsockname()[1]
        for name, target in (("receiver", self._serve), ("mechanism", self._run_mechanism)):
            thread = threading.Thread(target=target, name=f"madoguchi-virtual-printer-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("virtual printer listening on %s", self.uri)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> VirtualPrinter:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    # -- faults -------------------------------------------------------------------------------

    @property
    def faults(self) -> frozenset[str]:
        with self._changed:
            return frozenset(self._faults)

    def set_fault(self, name: str) -> None:
        self._check_fault(name)
        with self._changed:
            self._faults.add(name)
            self._changed.notify_all()
        log.info("virtual printer: fault %s set", name)

    def clear_fault(self, name: str | None = None) -> None:
        """Clears one fault by name, or all of them (and any armed fault) when ``name`` is None."""
        with self._changed:
            if name is None:
                self._faults.clear()
                self._armed_fault = None
            else:
                self._check_fault(name)
                self._faults.discard(name)
            self._changed.notify_all()
        log.info("virtual printer: %s cleared", name or "all faults")

    def fault_during_next_ticket(self, name: str) -> None:
        """Sets ``name`` right after the first image of the next ticket has printed (paper runs out)."""
        self._check_fault(name)
        with self._changed:
            self._armed_fault = name

    @staticmethod
    def _check_fault(name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")

    def status_byte(self, n: int) -> int:
        """The answer to DLE EOT n under the current faults."""
        faults = self.faults
        value = STATUS_FIXED_VALUE
        if n == 1 and faults & STOPPING_FAULTS:
            value |= OFFLINE_BIT
        elif n == 2:
            value |= COVER_OPEN_BIT if "cover_open" in faults else 0
            value |= PAPER_END_STOP_BIT if "paper_end" in faults else 0
            value |= ERROR_BIT if "offline" in faults else 0
        elif n == 4:
            if "paper_end" in faults:
                value |= PAPER_END_BITS | PAPER_NEAR_END_BITS
            elif "paper_near_end" in faults:
                value |= PAPER_NEAR_END_BITS
        return value

    # -- results ------------------------------------------------------------------------------

    def wait_for_tickets(self, count: int, timeout_s: float = 10.0) -> list[PrintedTicket]:
        """Blocks until ``count`` tickets exist (bounded), then returns them all."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.tickets) >= count, timeout=timeout_s):
                raise TimeoutError(f"virtual printer has {len(self.tickets)} tickets, expected {count}")
            return list(self.tickets)

    # -- receive side -------------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with sock:
                self._receive(sock)

    def _receive(self, sock: socket.socket) -> None:
        sock.settimeout(0.05)
        connection = _Connection(sock)
        decoder = EscposDecoder()
        while not self._stop.is_set():
            if "no_answer" in self.faults:
                self._stop.wait(0.05)  # stop reading: data piles up in the socket buffers
                continue
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            with self._changed:
                self.bytes_received += len(chunk)
            self._dispatch(decoder.feed(chunk), connection)
        self._jobs.put((_END_OF_CONNECTION, None))

    def _dispatch(self, commands: Iterable[Command], connection: _Connection) -> None:
        for command in commands:
            if command.name == "DLE_EOT":
                if "slow" in self.faults:
                    self._stop.wait(min(self.slow_delay_s, 0.2))
                connection.answer(self.status_byte(command.args[0]))
            elif command.name in ("DLE_ENQ", "DLE_DC4"):
                continue
            else:
                if command.name == "UNKNOWN":
                    log.warning("virtual printer: unknown command %s", bytes(command.args).hex(" "))
                self._jobs.put((command, connection))

    # -- mechanism side -----------------------------------------------------------------------

    def _run_mechanism(self) -> None:
        while not self._stop.is_set():
            try:
                command, connection = self._jobs.get(timeout=0.05)
            except queue.Empty:
                continue
            if command is _END_OF_CONNECTION:
                if not self._page.empty:
                    self._finish_ticket(complete=False)
                self._page.reset_modes()
                continue
            if self.faults & STOPPING_FAULTS and command.name != "INIT":
                self.dropped_commands += 1
                continue
            if _moves_paper(command) and "slow" in self.faults:
                self._stop.wait(self.slow_delay_s)
            self._execute(command, connection)

    def _execute(self, command: Command, connection: _Connection | None) -> None:
        page, name, args = self._page, command.name, command.args
        if name == "INIT":
            page.reset_modes()
        elif name == "JUSTIFY":
            page.justify = args[0] % 48 if args[0] >= 48 else args[0]
        elif name == "LINE_SPACING_DEFAULT":
            page.line_spacing = 30
        elif name == "LINE_SPACING":
            page.line_spacing = args[0]
        elif name == "TEXT":
            page.text(command.data)
        elif name == "LF":
            page.line_feed(1)
        elif name == "FEED_LINES":
            page.line_feed(args[0])
        elif name == "FEED_DOTS":
            page.flush_text()
            page.y += args[0]
        elif name == "RASTER":
            starting = page.empty
            page.raster(args[1], args[2], command.data)
            self._fire_armed_fault(starting)
        elif name == "CODE2D":
            page.code2d(command.data)
        elif name == "CUT":
            self._finish_ticket(complete=True)
        elif name == "TRANSMIT_STATUS" and connection is not None and "no_answer" not in self.faults:
            connection.answer(self._paper_sensor_byte() if args[0] in (1, 49) else 0)

    def _fire_armed_fault(self, ticket_starting: bool) -> None:
        with self._changed:
            armed = self._armed_fault
            if armed is None or not ticket_starting:
                return
            self._armed_fault = None
        self.set_fault(armed)

    def _paper_sensor_byte(self) -> int:
        faults = self.faults
        if "paper_end" in faults:
            return GS_R_PAPER_END_BITS | GS_R_NEAR_END_BITS
        return GS_R_NEAR_END_BITS if "paper_near_end" in faults else 0

    def _finish_ticket(self, *, complete: bool) -> None:
        page = self._page
        image = page.render()
        self._ticket_count += 1
        ticket = PrintedTicket(self._ticket_count, image, page.rasters, page.qr_codes, complete)
        if self.out_dir is not None:
            suffix = "" if complete else "-incomplete"
            ticket.path = self.out_dir / f"ticket-{ticket.number:04d}{suffix}.png"
            image.save(ticket.path)
        log.info("virtual printer: ticket %d %s (%dx%d dots)%s", ticket.number,
                 "cut" if complete else "left incomplete", image.width, image.height,
                 f", saved {ticket.path.name}" if ticket.path else "")
        self._page = Page(self.width_dots, justify=page.justify, line_spacing=page.line_spacing)
        with self._changed:
            self.tickets.append(ticket)
            self._changed.notify_all()
