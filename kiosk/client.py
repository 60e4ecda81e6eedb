"""The kiosk's REST client: catalog, guidance and issuing, with a device bearer token.

Two kinds of failure: the server could not be reached or failed (connection refused, timeout, 5xx)
— the caller retries, with the *same* Idempotency-Key when issuing, so a retry after a timeout never
makes a second ticket — and a refusal (4xx with a problem ``code``), which retrying would not change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from pydantic import ValidationError

from madoguchi.kiosk.models import (
    Catalog,
    Guidance,
    GuidanceRequest,
    OfficeState,
    PlanView,
    Problem,
    Ticket,
    TicketRequest,
)
from madoguchi.kiosk.status import DeviceStatus

log = logging.getLogger(__name__)

API = "/api/v1"


class ServerUnreachableError(Exception):
    """No usable answer: the request may or may not have reached the server."""


class RequestRefusedError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.status} {problem.code}")
        self.problem = problem

    @property
    def code(self) -> str:
        return self.problem.code


def read_token(path: Path) -> str:
    token = path.read_text(encoding="utf-8").strip()
    if not token:
        raise ValueError(f"{path}: the token file is empty")
    return token


class KioskClient:
    def __init__(self, base_url: str, token: str, *, timeout_s: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/") + API, timeout=timeout_s, transport=transport,
                                  headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KioskClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def catalog(self) -> Catalog:
        return Catalog.model_validate(self._call("GET", "/catalog"))

    def guidance(self, request: GuidanceRequest) -> Guidance:
        return Guidance.model_validate(self._call("POST", "/guidance", json=request.model_dump(mode="json")))

    def state(self) -> OfficeState:
        return OfficeState.model_validate(self._call("GET", "/state"))

    def plan(self, request: GuidanceRequest) -> PlanView:
        """The plan for the visit and its band's current estimate (the plan alone if /state fails)."""
        guidance = self.guidance(request)
        try:
            estimate = self.state().estimate(guidance.band)
        except (ServerUnreachableError, RequestRefusedError, ValidationError):
            estimate = None
        return PlanView(guidance=guidance, estimate=estimate)

    def issue(self, request: TicketRequest, idempotency_key: str) -> Ticket:
        """One attempt at issuing; the same key on every retry of the same visit."""
        answer = self._call("POST", "/tickets", json=request.model_dump(mode="json"),
                            headers={"Idempotency-Key": idempotency_key, "Accept-Language": request.language})
        return Ticket.model_validate(answer)

    def issue_until_answered(self, request: TicketRequest, idempotency_key: str,
                             delays_s: Sequence[float] = (0.5, 1, 2, 3, 5, 5, 5)) -> Ticket:
        """Retries an unreachable server with the same key (for the demo and tools; the app lets its
        flow schedule the retries so the screen can say what is happening)."""
        for delay in (*delays_s, None):
            try:
                return self.issue(request, idempotency_key)
            except ServerUnreachableError:
                if delay is None:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    def report_status(self, status: DeviceStatus) -> None:
        """This kiosk's health for the floor guide (the server republishes it on MQTT)."""
        self._call("PUT", "/devices/me/status", json={
            "online": status.online, "printer": status.printer, "card_reader": status.card_reader,
            "call_staff": status.call_staff})

    def _call(self, method: str, path: str, **kwargs: object) -> object:
        try:
            response = self._http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            log.warning("kiosk: %s %s failed: %s", method, path, type(exc).__name__)
            raise ServerUnreachableError(f"{method} {path}: {type(exc).__name__}") from None
        if response.status_code >= 500:
            log.warning("kiosk: %s %s answered %d", method, path, response.status_code)
            raise ServerUnreachableError(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise RequestRefusedError(_problem(response))
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:
            raise ServerUnreachableError(f"{method} {path}: the answer is not JSON") from None


def _problem(response: httpx.Response) -> Problem:
    try:
        return Problem.model_validate(response.json() | {"status": response.status_code})
    except (ValueError, TypeError, ValidationError):
        return Problem(code=f"http_{response.status_code}", status=response.status_code)
