"""Suite-wide hygiene (Home Assistant's verify_cleanup, adapted).

Every test fails if it leaves threads behind, logs at ERROR or above without declaring it, or lets
the test card holder's personal data reach a log line.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time

import pytest

from tests.personal_data import TEST_PIN, leaked_in

# Card keys of the tests (and of the servers they start) go to a folder of their own, never /etc.
os.environ.setdefault("MADOGUCHI_KEY_DIR", tempfile.mkdtemp(prefix="madoguchi-test-keys-"))


def _live_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.fixture(autouse=True)
def verify_cleanup(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture):
    """Fail a test that leaks threads, logs errors it did not expect, or logs personal data."""
    caplog.set_level(logging.DEBUG)
    before = _live_threads()
    yield
    # every phase: ``caplog.records`` alone would be this teardown's records only (the test's own are "call")
    records = [r for phase in ("setup", "call", "teardown") for r in caplog.get_records(phase)]
    text = "\n".join(r.getMessage() for r in records)
    leaks = leaked_in(text)
    assert not leaks, f"personal data reached the logs: {leaks}"
    assert TEST_PIN not in text, "a PIN reached the logs"
    if "allow_error_logs" not in request.keywords:
        errors = [r for r in records if r.levelno >= logging.ERROR]
        assert not errors, f"unexpected ERROR logs: {[r.getMessage() for r in errors]}"
    deadline = time.monotonic() + 5
    while True:
        leftover = {
            t
            for t in _live_threads() - before
            if not t.daemon or t.name.startswith(("madoguchi", "paho"))
        }
        if not leftover or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leftover, f"threads left running: {[t.name for t in leftover]}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_error_logs: the test expects ERROR log records")
