"""Running a virtual device in the foreground until Ctrl-C or SIGTERM (demo and installer tools)."""

from __future__ import annotations

import signal
import threading


def wait_until_stopped() -> None:
    """Block until Ctrl-C or SIGTERM; the previous SIGTERM handler is put back afterwards."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
