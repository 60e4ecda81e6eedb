"""A line-based control port for a running virtual printer, so faults can be set by name from outside.

    $ exec 3<>/dev/tcp/127.0.0.1/9101; echo 'set paper_end' >&3; head -1 <&3   -> ok faults: paper_end
    commands: set NAME | clear NAME | clear | next-ticket NAME | status

It listens on 127.0.0.1 only and answers one line per command.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from madoguchi.hardware.virtual_printer import FAULTS, VirtualPrinter

log = logging.getLogger(__name__)


class FaultControlServer:
    def __init__(self, printer: VirtualPrinter, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.printer = printer
        self.host, self.port = host, port
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> FaultControlServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(4)
        listener.settimeout(0.1)
        self._listener, self.port = listener, listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="madoguchi-virtual-printer-control",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def handle(self, line: str) -> str:
        """Executes one command line and returns the one-line answer."""
        words = line.split()
        try:
            if words[:1] == ["set"] and len(words) == 2:
                self.printer.set_fault(words[1])
            elif words[:1] == ["clear"] and len(words) <= 2:
                self.printer.clear_fault(words[1] if len(words) == 2 else None)
            elif words[:1] == ["next-ticket"] and len(words) == 2:
                self.printer.fault_during_next_ticket(words[1])
            elif words != ["status"]:
                return f"error: unknown command; use set NAME | clear [NAME] | next-ticket NAME | status " \
                       f"(faults: {', '.join(FAULTS)})"
        except ValueError as exc:
            return f"error: {exc}"
        faults = ", ".join(sorted(self.printer.faults)) or "none"
        return f"ok faults: {faults}; tickets: {len(self.printer.tickets)}"

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                self._converse(conn)

    def _converse(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        pending = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(1024)
            except TimeoutError:
                continue
            if not chunk:
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                text = line.decode("utf-8", "replace").strip()
                if text:
                    conn.sendall((self.handle(text) + "\n").encode("utf-8"))
