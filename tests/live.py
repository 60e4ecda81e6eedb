"""A real `madoguchi serve` process on a free port, with accounts made beforehand, for e2e tests."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from madoguchi.server.composition import Settings, build
from madoguchi.server.storage.accounts import DeviceKind, Role

STAFF_PASSWORD = "e2e-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen | None, grace_s: float = 15) -> None:
    """SIGTERM and a bounded wait for a clean exit; SIGKILL when it does not come. Nothing if already gone."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def wait_until(check, timeout_s: float, what: str, interval_s: float = 0.05):
    """Bounded retry: the first truthy result of ``check()``, or a clear failure."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:
            last_error = exc
        time.sleep(interval_s)
    raise TimeoutError(f"{what} not ready after {timeout_s} s (last error: {last_error!r})")


@dataclass
class LiveServer:
    data_dir: Path
    site: str = "chuo"
    config_dir: Path | None = None
    port: int = field(default_factory=free_port)
    tokens: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare_accounts(self) -> None:
        """Staff sessions and device tokens written to the database before the server opens it."""
        extra = {"config_dir": self.config_dir} if self.config_dir else {}
        services = build(Settings(site=self.site, data_dir=self.data_dir, **extra))
        now = dt.datetime.now(dt.UTC)
        with services.lock:
            for role in Role:
                services.accounts.add_user(f"{role.value}-e2e", role, STAFF_PASSWORD, now)
                self.tokens[role.value] = services.accounts.open_session(f"{role.value}-e2e", now,
                                                                         dt.timedelta(hours=2))
            for counter in services.office.counters:  # a counter session acts on its own counter only
                self.tokens[f"counter@{counter}"] = services.accounts.open_session(
                    "counter-e2e", now, dt.timedelta(hours=2), counter=counter)
            for kind in DeviceKind:
                self.tokens[kind.value] = services.accounts.add_device(f"{kind.value}-e2e", kind, now)
        services.close()

    def start(self, *extra: str) -> None:
        self.log_path = self.data_dir / "server.log"
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "madoguchi.server.cli.main", "-v", "serve", "--site", self.site,
             "--data-dir", str(self.data_dir), "--port", str(self.port), "--ignore-hours",
             "--public-url", self.url,
             *(["--config-dir", str(self.config_dir)] if self.config_dir else []), *extra],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        wait_until(self._healthy, 30, f"madoguchi serve on port {self.port}")

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"server exited with {self.process.returncode}: {self.log()[-2000:]}")
        return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up, as in a power cut or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        stop_process(self.process)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path else ""

    def client(self, role: str | None = None) -> httpx.Client:
        """A client with the role's token; for "counter", signed in at whichever counter a path names."""
        if role == "counter":
            return httpx.Client(base_url=self.url, auth=CounterSessions(self.tokens), timeout=10)
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


class CounterSessions(httpx.Auth):
    """The session signed in at the counter of the request's path (``/api/v1/counters/{id}/…``)."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request):
        parts = request.url.path.split("/")
        at = parts[4] if len(parts) > 5 and parts[1:4] == ["api", "v1", "counters"] else None
        token = self.tokens.get(f"counter@{at}") or self.tokens["counter"]
        request.headers["Authorization"] = f"Bearer {token}"
        yield request
