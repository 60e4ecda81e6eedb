"""An API on a real SQLite file in tmp_path, with a clock the test moves, and a token per role."""

from __future__ import annotations

import datetime as dt
import re
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
COUNTER_PATH = re.compile(r"^/api/v1/counters/([^/?]+)/")


@dataclass
class Api:
    client: TestClient
    services: Services
    clock: ManualClock
    tokens: dict[str, str]

    def headers(self, role: str | None, path: str = "") -> dict[str, str]:
        """The role's token; for "counter" on a counter's path, a session signed in at that counter
        (a counter session may act on its own counter only). ``tokens["counter"]`` is signed in at c1."""
        if role == "counter" and (at := COUNTER_PATH.match(path)):
            return {"Authorization": f"Bearer {self.counter_token(at.group(1))}"}
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def counter_token(self, counter: str) -> str:
        """A session of the counter user signed in at ``counter``."""
        key = f"counter@{counter}"
        if key not in self.tokens:
            with self.services.lock:
                self.tokens[key] = self.services.accounts.open_session(
                    "counter-user", self.clock.now(), dt.timedelta(hours=10), counter=counter)
        return self.tokens[key]

    def post(self, path: str, role: str | None, **kwargs: object):
        return self.client.post(path, headers={**self.headers(role, path), **kwargs.pop("headers", {})}, **kwargs)

    def get(self, path: str, role: str | None, **kwargs: object):
        return self.client.get(path, headers={**self.headers(role, path), **kwargs.pop("headers", {})}, **kwargs)

    def patch(self, path: str, role: str | None, **kwargs: object):
        return self.client.patch(path, headers={**self.headers(role, path), **kwargs.pop("headers", {})}, **kwargs)

    def put_status(self, body: object, role: str = "kiosk"):
        """A device's health report (PUT /api/v1/devices/me/status)."""
        return self.client.put("/api/v1/devices/me/status", json=body, headers=self.headers(role))

    def advance(self, minutes: float) -> dt.datetime:
        return self.clock.advance(minutes=minutes)


def make_api(tmp_path, start: dt.datetime = MONDAY_9AM, publisher: Publisher | None = None,
             **settings: object) -> Api:
    clock = ManualClock(start)
    settings = {"public_ops": True, **settings}  # tests read /api/v1/openapi.json (test_ops.py checks the default)
    services = build(Settings(site="chuo", data_dir=tmp_path, public_url="http://madoguchi.test", **settings),
                     clock=clock, publisher=publisher)
    tokens = {}
    with services.lock:
        for role in Role:
            services.accounts.add_user(f"{role.value}-user", role, PASSWORD, clock.now())
            tokens[role.value] = services.accounts.open_session(
                f"{role.value}-user", clock.now(), dt.timedelta(hours=10),
                counter="c1" if role is Role.COUNTER else None)
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
