"""Sign-in that a flood of wrong passwords cannot use to take the office down or to learn names.

- Failures are counted per source address and per account name in a sliding window; past the limit
  the answer is 429 with ``Retry-After`` and no password is checked at all.
- An account (known or not: the answers must not tell them apart) that keeps failing is locked until
  an admin unlocks it (``POST /admin/users/{name}/unlock``, ``madoguchi user unlock``).
- At most ``concurrency`` password checks run at once (each takes 19 MiB and one core for ~20 ms), on
  threads of their own; a few more may wait (two places kept for addresses without a recent
  failure); beyond that the answer is an immediate 429 ``signin_busy``.
- Refusals for an address or account that keeps failing (429 throttled, 423 locked) are answered
  after ``refusal_delay_s``: a client looping on them cannot make the server spin.
- Unknown and disabled users are checked against a dummy hash, so they take as long as a known one.

The source address is the connection's peer as uvicorn sees it: behind the TLS proxy, uvicorn takes it
from ``X-Forwarded-For`` when the proxy's address is in its ``--forwarded-allow-ips`` (default 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import os
import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from madoguchi.server.api.problems import ApiError
from madoguchi.server.storage.accounts import SignInLimits

T = TypeVar("T")
NICE = 10
"""Scheduling priority of the check threads: a sign-in may wait a few ms, a kiosk should not."""
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

    def count(self, key: str, now: dt.datetime) -> int:
        return len(self._recent(key, now))

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


class CheckWorkers:
    """``n`` daemon threads that run the password checks, started on demand and gone after a few idle
    seconds. Always the same few threads: each keeps one malloc arena, so the 19 MiB an argon2 check
    takes is reused instead of every thread-pool thread keeping its own (how 40 concurrent checks grew
    the server to 2.25 GB)."""

    IDLE_S = 5.0

    def __init__(self, n: int) -> None:
        self.n = n
        self._queue: queue.SimpleQueue[tuple[Callable[[], object], Future[object]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._alive = 0

    def submit(self, work: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((work, future))  # type: ignore[arg-type]
        with self._lock:
            while self._alive < self.n:
                self._alive += 1
                threading.Thread(target=self._serve, name="signin-check", daemon=True).start()
        return future

    def _serve(self) -> None:
        with contextlib.suppress(OSError):  # Linux nice is per thread: checks yield to the event loop
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        while True:
            try:
                work, future = self._queue.get(timeout=self.IDLE_S)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._alive -= 1
                        return
                continue
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(work())
                except BaseException as exc:  # handed to the awaiting request
                    future.set_exception(exc)


class SignInGuard:
    """Throttling, lock-out and the bound on password checks for one server (in memory)."""

    RESERVED = 2
    """Places of the check queue kept for addresses without a recent failure (a clerk signing in
    while a flood from other addresses fills the rest)."""

    def __init__(self, limits: SignInLimits) -> None:
        self.limits = limits
        self.sources = FailureWindow(limits.failures_per_source, limits.window)
        self.accounts = FailureWindow(limits.failures_per_account, limits.window)
        self._strikes: OrderedDict[str, int] = OrderedDict()
        self._admitted = 0  # checks running or waiting; only touched on the event loop
        self._workers = CheckWorkers(limits.concurrency)

    async def refuse(self, code: str, headers: dict[str, str], status: int = 429, **params: object) -> None:
        """A refusal for an address or account that keeps failing: answered after a short pause that
        costs the server nothing (asyncio), so a client looping on refusals cannot spin the server."""
        await asyncio.sleep(self.limits.refusal_delay_s)
        raise ApiError(status, code, headers, **params)

    async def refuse_if_throttled(self, source: str, username: str | None, now: dt.datetime) -> None:
        """429 with Retry-After when the address (or, given a name, the account) failed too often."""
        for window, key in ((self.sources, source), (self.accounts, username)):
            wait = window.retry_after(key, now) if key is not None else None
            if wait is not None:
                await self.refuse("signin_throttled", {"Retry-After": str(wait)}, seconds=wait)

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

    def not_checked(self, username: str) -> None:
        """Refused as busy: not held against the account; the address keeps the try, so one that
        loops on busy answers is soon throttled."""
        self.accounts.forget_one(username)

    def succeeded(self, source: str, username: str) -> None:
        self.sources.forget_one(source)
        self.accounts.clear(username)
        self._strikes.pop(username, None)

    def unlock(self, username: str) -> None:
        self._strikes.pop(username, None)
        self.accounts.clear(username)

    async def check(self, verify: Callable[[], T], clean: bool) -> T:
        """Run a password check on the check workers, at most ``concurrency`` at once; refuse at once
        (429 ``signin_busy``) when ``queue`` more already wait. An address with a recent failure
        (``clean`` False) finds ``RESERVED`` fewer places, and its refusal comes after the pause."""
        places = self.limits.concurrency + self.limits.queue - (0 if clean else self.RESERVED)
        if self._admitted >= places:
            if not clean:  # an address that already failed: no faster than its other refusals
                await self.refuse("signin_busy", {"Retry-After": "1"})
            raise ApiError(429, "signin_busy", {"Retry-After": "1"})
        self._admitted += 1
        try:
            return await asyncio.wrap_future(self._workers.submit(verify))
        finally:
            self._admitted -= 1

    def clean(self, source: str, now: dt.datetime) -> bool:
        """No failure from this address within the window."""
        return self.sources.count(source, now) == 0
