"""pcscd with vsmartcard's vpcd as its reader, for tests and the demo: our own, or the one already running.

Debian's vsmartcard-vpcd installs /etc/reader.conf.d/vpcd (port 0x8C7B = 35963); pcscd reads the
port from DEVICENAME ``/dev/null:PORT`` and opens two slots, "Virtual PCD 00 00" on PORT and
"Virtual PCD 00 01" on PORT+1. With no pcscd running we start ``pcscd -f -c DIR`` with our own
reader.conf.d so the port can be a free one and no other reader is loaded. pcscd's socket path
(/run/pcscd/pcscd.comm) is fixed in 1.9 (the daemon ignores PCSCLITE_CSOCK_NAME), so only one pcscd
can run: if one (e.g. systemd's pcscd.socket, which loads /etc/reader.conf.d/vpcd too) already lists
the virtual reader, we use it as it is and never stop it; the vpcd port is read from the daemon's
listening sockets (/proc), else from /etc/reader.conf.d. A running pcscd without the virtual reader,
or whose virtual reader already holds a card (a running demo), raises PcscdBusyError: we do not fight
it. Never use vpcd on a real kiosk: it listens on all interfaces.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VIRTUAL_READER_NAME = "Virtual PCD 00 00"
SYSTEM_READER_CONF = Path("/etc/reader.conf.d")
DEFAULT_VPCD_PORT = 0x8C7B  # vpcd's own default, also in Debian's /etc/reader.conf.d/vpcd
_TCP_LISTEN = "0A"


class PcscdBusyError(RuntimeError):
    """Another pcscd already serves /run/pcscd/pcscd.comm and cannot serve us."""


def pcscd_is_running() -> bool:
    if not PCSCD_SOCKET.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


def free_port_pair() -> int:
    """A TCP port P such that P and P+1 are both free now (vpcd opens two slots)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("0.0.0.0", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("0.0.0.0", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free pair of TCP ports for vpcd")


def _pcscd_pids() -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "pcscd":
                pids.append(int(comm.parent.name))
    return pids


def _listening_tcp_ports(pid: int) -> set[int]:
    """TCP ports process ``pid`` listens on (its socket inodes matched against /proc/net/tcp*)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == _TCP_LISTEN and fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _configured_vpcd_ports(conf_dir: Path = SYSTEM_READER_CONF) -> list[int]:
    """Ports of the vpcd entries in a reader.conf.d (DEVICENAME /dev/null:PORT, hex or decimal)."""
    ports = []
    for entry in sorted(conf_dir.glob("*")) if conf_dir.is_dir() else []:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = entry.read_text(encoding="utf-8")
            if "libifdvpcd" not in text:
                continue
            found = re.search(r"^\s*DEVICENAME\s+\S*:(0x[0-9a-fA-F]+|\d+)\s*$", text, re.MULTILINE)
            ports.append(int(found.group(1), 0) if found else DEFAULT_VPCD_PORT)
    return ports


def running_vpcd_port() -> int:
    """The vpcd port of the pcscd already running: a pair P, P+1 it listens on, else its reader.conf.d."""
    for pid in _pcscd_pids():
        ports = _listening_tcp_ports(pid)
        pairs = sorted(port for port in ports if port + 1 in ports)
        if pairs:
            return pairs[0]
    configured = _configured_vpcd_ports()
    return configured[0] if configured else DEFAULT_VPCD_PORT


def _reader_state(reader: str) -> tuple[list[str], int | None]:
    """(readers pcscd lists, the event state of ``reader`` or None if not listed); RuntimeError if unreachable."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise RuntimeError(f"pcscd does not answer: {scard.SCardGetErrorMessage(hresult)}")
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        if hresult != scard.SCARD_S_SUCCESS:
            return [], None
        if reader not in readers:
            return list(readers), None
        hresult, states = scard.SCardGetStatusChange(context, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        return list(readers), (states[0][1] if hresult == scard.SCARD_S_SUCCESS else None)
    finally:
        scard.SCardReleaseContext(context)


class PcscdWithVirtualReader:
    """``with PcscdWithVirtualReader() as service:`` → a running pcscd whose reader is vpcd on ``port``.

    ``shared`` after start() tells that the pcscd was already running (it stays running after stop()).
    """

    def __init__(self, port: int | None = None, *, pcscd: str = "pcscd") -> None:
        self.port = port or free_port_pair()
        self.pcscd = pcscd
        self.reader_name = VIRTUAL_READER_NAME
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.shared = False

    @property
    def log_path(self) -> Path | None:
        return self._dir / "pcscd.log" if self._dir else None

    @property
    def running(self) -> bool:
        if self.shared:
            return pcscd_is_running()
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 10.0) -> PcscdWithVirtualReader:
        if shutil.which(self.pcscd) is None or not VPCD_DRIVER.exists():
            raise FileNotFoundError(
                "pcscd or the vpcd driver is missing: install Debian pcscd and vsmartcard-vpcd")
        if pcscd_is_running():
            return self._use_running()
        self._dir = Path(tempfile.mkdtemp(prefix="madoguchi-pcscd-"))
        conf = self._dir / "reader.conf.d"
        conf.mkdir()
        (conf / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME   /dev/null:{self.port}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    {self.port}\n",
            encoding="ascii",
        )
        assert self.log_path is not None
        with self.log_path.open("wb") as log_file:
            self._process = subprocess.Popen(
                [self.pcscd, "--foreground", "--info", "-c", str(conf)],
                stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        try:
            self._wait_for_reader(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _use_running(self, settle_s: float = 3.0) -> PcscdWithVirtualReader:
        """Serve from the pcscd already on the socket if it lists an empty virtual reader (waiting a
        bounded ``settle_s`` for it: a socket-activated pcscd has only just started loading its drivers)."""
        from smartcard import scard

        deadline = time.monotonic() + settle_s
        readers, state = _reader_state(self.reader_name)
        while state is None and time.monotonic() < deadline:
            time.sleep(0.1)
            readers, state = _reader_state(self.reader_name)
        if state is None:
            raise PcscdBusyError(
                f"another pcscd serves {PCSCD_SOCKET} without the virtual reader {self.reader_name!r} "
                f"(it lists {readers}): install vsmartcard-vpcd and restart it (systemctl restart pcscd), "
                "or stop it (systemctl stop pcscd.socket pcscd)")
        if state & scard.SCARD_STATE_PRESENT:
            raise PcscdBusyError(
                f"the virtual reader {self.reader_name!r} of the running pcscd already holds a card "
                "(is a demo running?); stop that first")
        self.port = running_vpcd_port()
        self.shared = True
        return self

    def _wait_for_reader(self, timeout_s: float) -> None:
        from smartcard import scard

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"pcscd exited at start-up: {self.log_tail()}")
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult == scard.SCARD_S_SUCCESS:
                try:
                    hresult, readers = scard.SCardListReaders(context, [])
                finally:
                    scard.SCardReleaseContext(context)
                if hresult == scard.SCARD_S_SUCCESS and self.reader_name in readers:
                    return
            time.sleep(0.05)
        raise TimeoutError(
            f"pcscd did not show {self.reader_name!r} within {timeout_s:g} s: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no pcscd log)"
        return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Stops our own pcscd; a shared one is only let go of (it keeps running)."""
        if self.shared:
            self.shared = False
            return
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        # pcscd removes its socket on a clean exit; wait (bounded) so the next start sees it gone.
        deadline = time.monotonic() + 3
        while PCSCD_SOCKET.exists() and pcscd_is_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._dir is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self._dir)
            self._dir = None

    def __enter__(self) -> PcscdWithVirtualReader:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m madoguchi.hardware.virtual_reader`: pcscd + vpcd + a virtual card until Ctrl-C (demo)."""
    import argparse

    from madoguchi.hardware.lifecycle import wait_until_stopped
    from madoguchi.hardware.virtual_card import CardHolder, VirtualMyNumberCard

    parser = argparse.ArgumentParser(description="Run pcscd with a virtual reader holding a virtual "
                                                 "My Number card (fictional holder unless given).")
    parser.add_argument("--pin", default="1234")
    parser.add_argument("--name", default="熊本　太郎")
    parser.add_argument("--address", default="熊本県熊本市中央区手取本町１番１号")
    parser.add_argument("--birth-date", default="19800101", help="YYYYMMDD")
    parser.add_argument("--sex", default="1", choices=("1", "2", "9"))
    args = parser.parse_args(argv)
    with PcscdWithVirtualReader() as service:
        card = VirtualMyNumberCard(CardHolder(args.name, args.address, args.birth_date, args.sex), args.pin,
                                   port=service.port)
        card.insert()
        print(f"reader {service.reader_name!r} has a virtual My Number card (vpcd port {service.port}); "
              "Ctrl-C stops", flush=True)
        try:
            wait_until_stopped()
        finally:
            card.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
