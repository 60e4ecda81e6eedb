"""Real Chromium (Debian's package) driven by Playwright, against a live server."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from tests.live import LiveServer

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser():
    """One Chromium per test: Playwright's own thread ends with it (the hygiene check sees no leftovers)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A phone-sized page, as residents open their status page from the ticket's QR code."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  locale="ja-JP")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(tmp_path / "data")
    server.prepare_accounts()
    server.start("--no-mqtt")
    yield server
    server.stop()
