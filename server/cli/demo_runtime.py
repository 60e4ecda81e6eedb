"""What `madoguchi demo` needs around its processes: one demo per data folder, and the address to print.

The lock is an ``flock`` on ``DATA/demo.lock``, held for as long as the demo runs: the kernel drops it
when the process ends however it ends, so a demo killed with SIGKILL never leaves a stale lock behind.
The file also carries the owner's pid and URL, for the message that refuses a second demo.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import socket
import subprocess
from pathlib import Path
from typing import IO

from madoguchi.common.cli import CommandError

LOCK_NAME = "demo.lock"
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
# A TEST-NET-1 address (RFC 5737): connecting a UDP socket to it only asks the kernel for a route
# and sends nothing, so no traffic leaves the machine to learn which interface faces the LAN.
ROUTE_PROBE = ("192.0.2.1", 9)


class DemoLock:
    """``with DemoLock(data):`` holds the folder for this demo or raises CommandError naming the owner."""

    def __init__(self, data: Path) -> None:
        self.path = data / LOCK_NAME
        self._file: IO[str] | None = None

    def __enter__(self) -> DemoLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def acquire(self) -> DemoLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise CommandError(
                f"a demo is already running on the data folder {self.path.parent} ({owner}). It keeps "
                f"running; its URLs and tokens are in {self.path.parent / 'demo.txt'}. Stop it first "
                f"(Ctrl-C in its terminal), or start this one on another folder: --data-dir DIR "
                f"(make demo DEMO_DIR=var/demo2).") from None
        self._file = handle
        self.describe("starting")
        return self

    def describe(self, what: str) -> None:
        """Write who holds the lock (pid and what it serves) into the lock file."""
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"pid {os.getpid()}, {what}\n")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.seek(0)
                self._file.truncate()
            self._file.close()  # closing drops the flock
            self._file = None


def is_wildcard(host: str) -> bool:
    return host in WILDCARD_HOSTS


def local_host(host: str) -> str:
    """Where this machine itself reaches a server listening on ``host``."""
    return "127.0.0.1" if is_wildcard(host) or host == "localhost" else host


def lan_address() -> str | None:
    """This machine's address on its LAN (the source address of its default route), without sending
    anything; ``hostname -I`` when there is no default route; None when neither finds one."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(ROUTE_PROBE)
        address = str(probe.getsockname()[0])
        if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":
            return address
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        listed = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
        for address in listed:
            with contextlib.suppress(ValueError):
                parsed = ipaddress.ip_address(address)
                if parsed.version == 4 and not parsed.is_loopback and not parsed.is_link_local:
                    return address
    return None


def public_host(host: str) -> str:
    """The host name to print and put in QR codes for a server listening on ``host``: the LAN address
    when it listens on every interface, else the host itself."""
    if is_wildcard(host):
        address = lan_address()
        if address is None:
            raise CommandError(f"--host {host or '0.0.0.0'}: this machine has no LAN address (no network "
                               f"interface other than loopback is up); use the default --host 127.0.0.1")
        return address
    return "127.0.0.1" if host == "localhost" else host
