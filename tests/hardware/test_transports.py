"""Printer URIs, and the serial transport for real: python-escpos on a pty bridged to the virtual printer.

USB is the one transport not exercised here: it needs a physical printer (see DESIGN.md §7).
"""

from __future__ import annotations

import os
import select
import socket
import threading
from collections.abc import Iterator

import pytest

from madoguchi.hardware.printer import EscposTicketPrinter
from madoguchi.hardware.printer_link import PrinterAddress, parse_printer_uri
from madoguchi.hardware.printer_status import PrinterStatus
from madoguchi.hardware.virtual_printer import VirtualPrinter
from tests.hardware.regenerate_golden import CASES


@pytest.mark.parametrize(("uri", "address"), [
    ("tcp://192.0.2.10:9100", PrinterAddress("tcp", host="192.0.2.10", port=9100)),
    ("tcp://printer.local", PrinterAddress("tcp", host="printer.local", port=9100)),
    ("usb://04b8:0e15", PrinterAddress("usb", vendor_id=0x04B8, product_id=0x0E15)),
    ("serial:///dev/ttyS0?baudrate=115200", PrinterAddress("serial", device="/dev/ttyS0", baudrate=115200)),
    ("serial:///dev/ttyUSB0", PrinterAddress("serial", device="/dev/ttyUSB0", baudrate=19200)),
])
def test_printer_uris_are_parsed(uri, address):
    assert parse_printer_uri(uri) == address
    assert parse_printer_uri(str(address)) == address


@pytest.mark.parametrize("uri", ["lpt://1", "usb://zz:01", "serial://", "tcp://:9100", "9100"])
def test_bad_printer_uris_name_the_accepted_forms(uri):
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        parse_printer_uri(uri)


@pytest.fixture
def serial_printer(virtual_printer: VirtualPrinter) -> Iterator[str]:
    """A pty whose far end is pumped to the virtual printer's TCP port, like a serial device server."""
    master, slave = os.openpty()
    device = os.ttyname(slave)
    link = socket.create_connection(("127.0.0.1", virtual_printer.port))
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([master, link], [], [], 0.05)
            if master in ready:
                link.sendall(os.read(master, 65536))
            if link in ready:
                data = link.recv(65536)
                if not data:
                    return
                os.write(master, data)

    thread = threading.Thread(target=pump, name="madoguchi-test-serial-bridge", daemon=True)
    thread.start()
    yield f"serial://{device}?baudrate=115200"
    stop.set()
    thread.join(timeout=5)
    link.close()
    os.close(master)
    os.close(slave)


def test_a_ticket_prints_over_a_serial_line(serial_printer, virtual_printer):
    content, _ = CASES["ticket-ja-384"]
    printer = EscposTicketPrinter(serial_printer, width_dots=576, status_timeout_s=1.0)
    assert printer.health().status is PrinterStatus.ONLINE
    receipt = printer.print_ticket(content)
    assert receipt.health_after.status is PrinterStatus.ONLINE
    assert virtual_printer.wait_for_tickets(1)[0].complete
