"""Sign-in that a flood of wrong passwords cannot use to take the office down or to learn names.

- Failures are counted per source address and per account name in a sliding window; past the limit
  the answer is 429 with ``Retry-After`` and no password is checked at all.
- An account (known or not: the answers must not tell them apart) that keeps failing is locked until
  an admin unlocks it (``POST /admin/users/{name}/unlock``, ``madoguchi user unlock``).
- At most ``concurrency`` password checks run at once (each takes 64 MiB and one core for ~150 ms);
  a few more may wait; beyond that the answer is an immediate 429 ``signin_busy``.
- Unknown and disabled users are checked against a dummy hash, so they take as long as a known one.

The source address is the connection's peer as uvicorn sees it: behind the TLS proxy, uvicorn takes it
from ``X-Forwarded-For`` when the proxy's address is in its ``--forwarded-allow-ips`` (default 127.0.0.1).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool

from madoguchi.server.api.problems import ApiError
from madoguchi.server.storage.accounts import SignInLimits

T = TypeVar("T")
MAX_KEYS = 10_000
"""Names and addresses remembered at most (oldest forgotten first): memory stays bounded in a flood."""


class FailureWindow:
    """Failure times per key within a sliding window, for a bounded number of keys."""

    def __init__(self, limit: int, window: dt.timedelta) -> None:
        self.limit = limit
        self.window = window
        self._times: OrderedDict[str, deque[dt.datetime]] = OrderedDict()

    def _recent(self, key: str, now: dt.datetime) -> deque[dt.datetime]:
        times = self._times.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, key: str, now: dt.datetime) -> int | None:
        """Seconds until this key may try again, or None when it may now."""
        times = self._recent(key, now)
        if len(times) < self.limit:
            return None
        return max(1, math.ceil((times[-self.limit] + self.window - now).total_seconds()))

    def add(self, key: str, now: dt.datetime) -> None:
        times = self._times.pop(key, None) or deque(maxlen=self.limit)
        times.append(now)
        self._times[key] = times
        while len(self._times) > MAX_KEYS:
            self._times.popitem(last=False)

    def forget_one(self, key: str) -> None:
        times = self._times.get(key)
        if times:
            times.pop()

    def clear(self, key: str) -> None:
        self._times.pop(key, None)


class SignInGuard:
    """Throttling, lock-out and the bound on password checks for one server (in memory)."""

    def __init__(self, limits: SignInLimits) -> None:
        self.limits = limits
        self.sources = FailureWindow(limits.failures_per_source, limits.window)
        self.accounts = FailureWindow(limits.failures_per_account, limits.window)
        self._strikes: OrderedDict[str, int] = OrderedDict()
        self._admitted = 0
        self._running = threading.BoundedSemaphore(limits.concurrency)

    def refuse_if_throttled(self, source: str, username: str, now: dt.datetime) -> None:
        for window, key in ((self.sources, source), (self.accounts, username)):
            wait = window.retry_after(key, now)
            if wait is not None:
                raise ApiError(429, "signin_throttled", {"Retry-After": str(wait)}, seconds=wait)

    def locked(self, username: str) -> bool:
        """Locked in memory: names without an account lock the same way as real ones."""
        return self._strikes.get(username, 0) >= self.limits.lockout_after

    def charge(self, source: str, username: str, now: dt.datetime) -> None:
        """Counted as a failure before the check, so concurrent tries cannot overshoot the limits."""
        self.sources.add(source, now)
        self.accounts.add(username, now)

    def failed(self, username: str) -> bool:
        """A wrong password; True when the account must now be locked."""
        strikes = self._strikes.pop(username, 0) + 1
        self._strikes[username] = strikes
        while len(self._strikes) > MAX_KEYS:
            self._strikes.popitem(last=False)
        return strikes >= self.limits.lockout_after

    def refund(self, source: str, username: str) -> None:
        """The check did not happen (busy): the try is not held against anyone."""
        self.sources.forget_one(source)
        self.accounts.forget_one(username)

    def succeeded(self, source: str, username: str) -> None:
        self.sources.forget_one(source)
        self.accounts.clear(username)
        self._strikes.pop(username, None)

    def unlock(self, username: str) -> None:
        self._strikes.pop(username, None)
        self.accounts.clear(username)

    async def check(self, verify: Callable[[], T]) -> T:
        """Run a password check in a worker thread, at most ``concurrency`` at once; refuse at once
        (429 ``signin_busy``) when that many run and ``queue`` more already wait."""
        if self._admitted >= self.limits.concurrency + self.limits.queue:
            raise ApiError(429, "signin_busy", {"Retry-After": "1"})
        self._admitted += 1  # only touched on the event loop

        def bounded() -> T:
            with self._running:
                return verify()
        try:
            return await run_in_threadpool(bounded)
        finally:
            self._admitted -= 1
