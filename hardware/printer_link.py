"""Opening a python-escpos connection from a printer URI, and reading answers with short timeouts.

URI forms: ``tcp://HOST:PORT`` (port 9100 by default), ``usb://VID:PID`` (hex),
``serial:///dev/ttyS0?baudrate=115200``. python-escpos waits 60 s for a status answer by default and
its ``is_online()`` raises TimeoutError when nothing answers, so every read here sets its own timeout
on the transport and returns what arrived (possibly nothing) instead.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from madoguchi.hardware.printer_status import PrinterNotFoundError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrinterAddress:
    kind: str  # "tcp", "usb" or "serial"
    host: str = ""
    port: int = 9100
    vendor_id: int = 0
    product_id: int = 0
    device: str = ""
    baudrate: int = 19200

    def __str__(self) -> str:
        if self.kind == "tcp":
            return f"tcp://{self.host}:{self.port}"
        if self.kind == "usb":
            return f"usb://{self.vendor_id:04x}:{self.product_id:04x}"
        return f"serial://{self.device}?baudrate={self.baudrate}"


def parse_printer_uri(uri: str) -> PrinterAddress:
    """Parses a printer URI, raising ValueError with the accepted forms when it is not one."""
    parts = urlsplit(uri)
    forms = "tcp://HOST:PORT, usb://VID:PID or serial:///dev/ttyS0?baudrate=115200"
    try:
        if parts.scheme == "tcp" and parts.hostname:
            return PrinterAddress("tcp", host=parts.hostname, port=parts.port or 9100)
        if parts.scheme == "usb" and parts.netloc:
            vendor, _, product = parts.netloc.partition(":")
            return PrinterAddress("usb", vendor_id=int(vendor, 16), product_id=int(product, 16))
        if parts.scheme == "serial" and parts.path:
            query = parse_qs(parts.query)
            baudrate = int(query.get("baudrate", ["19200"])[0])
            return PrinterAddress("serial", device=parts.path, baudrate=baudrate)
    except ValueError as exc:
        raise ValueError(f"bad printer URI {uri!r}: {exc}; use {forms}") from None
    raise ValueError(f"bad printer URI {uri!r}: use {forms}")


def open_escpos(address: PrinterAddress, send_timeout_s: float) -> Any:
    """An open python-escpos printer object for the address, or PrinterNotFoundError."""
    from escpos import printer as escpos_printer
    from escpos.exceptions import DeviceNotFoundError

    try:
        if address.kind == "tcp":
            device = escpos_printer.Network(address.host, address.port, timeout=send_timeout_s)
        elif address.kind == "usb":
            device = escpos_printer.Usb(address.vendor_id, address.product_id,
                                        timeout=int(send_timeout_s * 1000))
        else:
            device = escpos_printer.Serial(address.device, baudrate=address.baudrate, timeout=send_timeout_s)
        device.open(raise_not_found=True)
    except DeviceNotFoundError as exc:
        raise PrinterNotFoundError(f"cannot reach printer {address}: {_first_line(exc)}",
                                   phase="connect") from None
    except Exception as exc:  # pyusb/pyserial raise their own types (USBError, SerialException)
        raise PrinterNotFoundError(f"cannot open printer {address}: {_first_line(exc)}",
                                   phase="connect") from None
    if address.kind == "serial":
        device.device.write_timeout = send_timeout_s
    return device


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    line = lines[-1] if lines else type(exc).__name__
    return line[:-1] if line.endswith(")") and line.count(")") > line.count("(") else line


class PrinterLink:
    """Sends bytes and collects answer bytes over an open python-escpos device."""

    def __init__(self, device: Any, kind: str, send_timeout_s: float) -> None:
        self.device = device
        self.kind = kind
        self.send_timeout_s = send_timeout_s
        self.bytes_sent = 0

    def send(self, data: bytes) -> None:
        if self.kind == "tcp":
            self.device.device.settimeout(self.send_timeout_s)
        self.device._raw(data)  # python-escpos' transport write (sendall / USB bulk / serial write)
        self.bytes_sent += len(data)

    def read_some(self, timeout_s: float) -> bytes:
        """Whatever answer bytes arrive within ``timeout_s`` (b"" if none)."""
        timeout_s = max(timeout_s, 0.001)
        if self.kind == "tcp":
            sock: socket.socket = self.device.device
            sock.settimeout(timeout_s)
            try:
                data = sock.recv(64)
            except (TimeoutError, BlockingIOError):
                return b""
            if not data:
                raise ConnectionResetError("the printer closed the connection")
            return data
        if self.kind == "serial":
            port = self.device.device
            port.timeout = timeout_s
            first = port.read(1)  # read(64) would wait the whole timeout for 64 bytes
            return bytes(first + port.read(port.in_waiting)) if first else b""
        import usb.core

        try:
            return bytes(self.device.device.read(self.device.in_ep, 64, max(1, int(timeout_s * 1000))))
        except usb.core.USBTimeoutError:
            return b""

    def drain(self) -> None:
        """Drops answers that arrived late for an earlier question, so they are not misread."""
        with contextlib.suppress(OSError):
            while self.read_some(0.005):
                pass

    def ask(self, command: bytes, accept: Callable[[int], bool], timeout_s: float) -> int | None:
        """Sends ``command`` and returns the first answer byte ``accept`` recognises, None on timeout."""
        self.drain()
        self.send(command)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                answer = self.read_some(remaining)
            except OSError:
                return None  # a closed or broken link answers nothing
            for byte in answer:
                if accept(byte):
                    return byte
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.device.close()
