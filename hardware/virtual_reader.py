"""Runs a private ``pcscd -f`` whose only reader is vsmartcard's vpcd, for tests and the demo.

Debian's vsmartcard-vpcd installs /etc/reader.conf.d/vpcd (port 0x8C7B = 35963); pcscd reads the
port from DEVICENAME ``/dev/null:PORT`` and opens two slots, "Virtual PCD 00 00" on PORT and
"Virtual PCD 00 01" on PORT+1. We pass ``-c`` with our own reader.conf.d so the port can be a free
one and no other reader is loaded. pcscd's socket path (/run/pcscd/pcscd.comm) is fixed in 1.9, so
only one pcscd can run: if another one (e.g. systemd's pcscd.socket) answers there we do not fight
it and raise PcscdBusyError instead. Never use vpcd on a real kiosk: it listens on all interfaces.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VIRTUAL_READER_NAME = "Virtual PCD 00 00"


class PcscdBusyError(RuntimeError):
    """Another pcscd already serves /run/pcscd/pcscd.comm."""


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


class PcscdWithVirtualReader:
    """``with PcscdWithVirtualReader() as service:`` → a running pcscd whose reader is vpcd on ``port``."""

    def __init__(self, port: int | None = None, *, pcscd: str = "pcscd") -> None:
        self.port = port or free_port_pair()
        self.pcscd = pcscd
        self.reader_name = VIRTUAL_READER_NAME
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path | None:
        return self._dir / "pcscd.log" if self._dir else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 10.0) -> PcscdWithVirtualReader:
        if shutil.which(self.pcscd) is None or not VPCD_DRIVER.exists():
            raise FileNotFoundError(
                "pcscd or the vpcd driver is missing: install Debian pcscd and vsmartcard-vpcd")
        if pcscd_is_running():
            raise PcscdBusyError(
                f"another pcscd serves {PCSCD_SOCKET}; stop it first (systemctl stop pcscd.socket pcscd)")
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
