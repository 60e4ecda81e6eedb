"""Operations: health, Prometheus metrics, and the state every display and page can read."""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madoguchi.common.protocol import StatePayload
from madoguchi.server.api.problems import messages_for, problem_body
from madoguchi.server.api.security import SESSION_COOKIE, Anyone, ServicesDep
from madoguchi.server.core.counter import CounterState
from madoguchi.server.service.container import Services
from madoguchi.server.storage.accounts import Role

router = APIRouter(tags=["ops"])


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("madoguchi_http_requests", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("madoguchi_http_request_seconds", "HTTP request latency", ["route"],
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5),
                                 registry=self.registry)
        self.waiting = Gauge("madoguchi_waiting_visits", "Visits waiting, per band", ["band"], registry=self.registry)
        self.estimate = Gauge("madoguchi_band_estimate_minutes", "Estimated wait for a new visit, per band",
                              ["band"], registry=self.registry)
        self.open_counters = Gauge("madoguchi_open_counters", "Counters open", registry=self.registry)
        self.seq = Gauge("madoguchi_event_seq", "Sequence number of the last event in the log",
                         registry=self.registry)

    def install(self, app: FastAPI) -> None:
        app.add_middleware(MeasureRequests, metrics=self)


class MeasureRequests:
    """Pure ASGI middleware: counts and times every request, and tells the client the time spent in
    the server (``Server-Timing: app;dur=…``), which the benchmarks read."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                took_ms = (time.perf_counter() - started) * 1000
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", f"app;dur={took_ms:.2f}".encode())]}
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)
            self.metrics.requests.labels(scope.get("method", ""), path, str(status)).inc()


LOOPBACK = frozenset({"127.0.0.1", "::1"})
OPS_ROLES = frozenset({Role.MANAGER.value, Role.ADMIN.value})


class GuardOps:
    """Pure ASGI middleware: ``/metrics`` and the API docs (``{api}/docs…``, ``{api}/openapi.json``) answer
    404 unless ``Settings.public_ops`` is on, the caller is on this machine (a local Prometheus; behind the
    TLS proxy uvicorn sees the resident's or clerk's own address), or sends a manager's or admin's token
    (or the staff pages' session cookie)."""

    def __init__(self, app: ASGIApp, services: Services, api: str) -> None:
        self.app = app
        self.services = services
        self.api = api

    def guarded(self, path: str) -> bool:
        return path == "/metrics" or path == f"{self.api}/openapi.json" or path.startswith(f"{self.api}/docs")

    def allowed(self, scope: Scope) -> bool:
        if self.services.settings.public_ops:
            return True
        client = scope.get("client")
        if client and client[0] in LOOPBACK:
            return True
        request = Request(scope)
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else request.cookies.get(SESSION_COOKIE)
        if not token:
            return False
        with self.services.lock:
            principal = self.services.accounts.principal(token, self.services.clock.now())
        return principal is not None and principal.role in OPS_ROLES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.guarded(scope["path"]) and not self.allowed(scope):
            response = JSONResponse(problem_body(404, "not_found", "ja", messages_for("not_found")),
                                    status_code=404, media_type="application/problem+json")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


@router.get("/healthz")
async def healthz(services: ServicesDep) -> dict[str, object]:
    """Liveness and readiness: the database answers and the office is loaded."""
    with services.lock:
        services.store.ping()
        return {"status": "ok", "site": services.settings.site, "seq": services.seq,
                "day": services.office.day.isoformat() if services.office.day else None}


@router.get("/metrics", response_class=Response)
def metrics(request: Request, services: ServicesDep) -> Response:
    """Prometheus text: request counts and latency, waiting visits and estimates per band."""
    collected: Metrics = request.app.state.metrics
    state = services.state()
    for band in state.bands:
        collected.waiting.labels(band.id).set(band.waiting)
        collected.estimate.labels(band.id).set(band.estimate.minutes)
    collected.open_counters.set(sum(1 for c in state.counters if c.state == CounterState.OPEN.value))
    collected.seq.set(state.seq)
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/state", response_model=StatePayload)
async def state(services: ServicesDep, _: Anyone) -> StatePayload:
    """The same JSON as the retained MQTT ``state`` payload."""
    return services.state()
