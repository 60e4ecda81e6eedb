from __future__ import annotations

import pytest

from tests.live import LiveServer


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(tmp_path / "data")
    server.prepare_accounts()
    server.start()
    yield server
    server.stop()
