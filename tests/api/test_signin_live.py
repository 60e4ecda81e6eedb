"""Sign-in against a real `madoguchi serve` (uvicorn) on loopback: the cookie is Secure behind a trusted TLS
proxy, and password checks running at once are bounded (the rest are refused at once, not queued)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.live import STAFF_PASSWORD, LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("signin") / "data")
    live.prepare_accounts()
    live.start("--no-mqtt")
    yield live
    live.stop()


def from_address(server: LiveServer, address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.0.0.0/8 address is this machine)."""
    return httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address=address), timeout=30)


def sign_in(client: httpx.Client, username: str, password: str, **headers: str) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password}, headers=headers)


def test_the_session_cookie_is_secure_when_a_trusted_proxy_says_https(server):
    with from_address(server, "127.0.0.1") as proxy:  # where Caddy or nginx would connect from
        behind_tls = sign_in(proxy, "guide-e2e", STAFF_PASSWORD, **{"X-Forwarded-Proto": "https"})
        assert behind_tls.status_code == 200
        assert "; secure" in behind_tls.headers["set-cookie"].lower()
        assert behind_tls.headers["cache-control"] == "no-store"
        plain = sign_in(proxy, "guide-e2e", STAFF_PASSWORD)
        assert "; secure" not in plain.headers["set-cookie"].lower()
    with from_address(server, "127.0.0.2") as stranger:  # not the proxy: its header is not believed
        spoofed = sign_in(stranger, "guide-e2e", STAFF_PASSWORD, **{"X-Forwarded-Proto": "https"})
        assert spoofed.status_code == 200 and "; secure" not in spoofed.headers["set-cookie"].lower()


def test_password_checks_at_once_are_bounded_and_the_rest_refused_fast(server):
    answers: list[tuple[int, str, float]] = []
    start = threading.Barrier(12)

    def attempt(i: int) -> None:
        with from_address(server, f"127.0.1.{i + 1}") as client:
            client.get("/healthz")  # connect first, so the twelve sign-ins leave together
            start.wait(10)
            sent = time.perf_counter()
            response = sign_in(client, f"nobody-{i}", "guess")
            answers.append((response.status_code, response.json()["code"], time.perf_counter() - sent))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 12
    busy = [took for status, code, took in answers if status == 429 and code == "signin_busy"]
    checked = [took for status, code, took in answers if status == 401 and code == "bad_credentials"]
    assert len(busy) + len(checked) == 12, answers
    # one check runs and four wait; the rest are refused (a few more get in as checks finish meanwhile)
    assert len(busy) >= 3, answers
    assert max(busy) < max(checked) / 2, "a refusal does not wait for the checks"
    with from_address(server, "127.0.0.3") as clerk:  # the flood is over: the right password works at once
        assert sign_in(clerk, "manager-e2e", STAFF_PASSWORD).status_code == 200
