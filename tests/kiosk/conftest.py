"""Kiosk test fixtures: a live `madoguchi serve` process, and Kivy set up for tests (before any import
of kivy: no argument parsing, a private KIVY_HOME, no audio)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="madoguchi-kivy-home-"))

from tests.live import LiveServer


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("kiosk-server"))
    server.prepare_accounts()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def token_file(live_server: LiveServer, tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.token"
    path.write_text(live_server.tokens["kiosk"] + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def kivy_window() -> Iterator[None]:
    """Kivy's one window for the whole session, on a private Xvfb when there is no screen."""
    from tests.kiosk.driver import kiosk_window, stop_display

    with kiosk_window((1920, 1080)):
        yield
    stop_display()


@pytest.fixture(scope="session")
def pcscd():  # type: ignore[no-untyped-def]
    """pcscd with the virtual reader (shared with the hardware tests' one when it already runs)."""
    from madoguchi.hardware.virtual_reader import PcscdWithVirtualReader

    service = PcscdWithVirtualReader().start()
    yield service
    service.stop()
