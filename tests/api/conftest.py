"""An API on a real SQLite file in tmp_path, with a clock the test moves, and a token per role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from madoguchi.server.api.app import create_app
from madoguchi.server.composition import Settings, build
from madoguchi.server.mqtt.port import Publisher
from madoguchi.server.service.clock import ManualClock
from madoguchi.server.service.container import Services
from madoguchi.server.storage.accounts import DeviceKind, Role
from tests.factories import MONDAY_9AM

PASSWORD = "correct-horse-battery"


@dataclass
class Api:
    client: TestClient
    services: Services
    clock: ManualClock
    tokens: dict[str, str]

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def post(self, path: str, role: str | None, **kwargs: object):
        return self.client.post(path, headers={**self.headers(role), **kwargs.pop("headers", {})}, **kwargs)

    def get(self, path: str, role: str | None, **kwargs: object):
        return self.client.get(path, headers={**self.headers(role), **kwargs.pop("headers", {})}, **kwargs)

    def patch(self, path: str, role: str | None, **kwargs: object):
        return self.client.patch(path, headers={**self.headers(role), **kwargs.pop("headers", {})}, **kwargs)

    def advance(self, minutes: float) -> dt.datetime:
        return self.clock.advance(minutes=minutes)


def make_api(tmp_path, start: dt.datetime = MONDAY_9AM, publisher: Publisher | None = None,
             **settings: object) -> Api:
    clock = ManualClock(start)
    services = build(Settings(site="chuo", data_dir=tmp_path, public_url="http://madoguchi.test", **settings),
                     clock=clock, publisher=publisher)
    tokens = {}
    with services.lock:
        for role in Role:
            services.accounts.add_user(f"{role.value}-user", role, PASSWORD, clock.now())
            tokens[role.value] = services.accounts.open_session(f"{role.value}-user", clock.now(),
                                                                dt.timedelta(hours=10))
        for kind in DeviceKind:
            tokens[kind.value] = services.accounts.add_device(f"{kind.value}-1", kind, clock.now())
    client = TestClient(create_app(services), raise_server_exceptions=False)
    return Api(client, services, clock, tokens)


@pytest.fixture
def api(tmp_path) -> Iterator[Api]:
    made = make_api(tmp_path)
    with made.client:
        yield made
    made.services.close()
