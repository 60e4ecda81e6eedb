"""The FastAPI application: routers, one error shape, metrics. Built around given Services."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi_offline import FastAPIOffline

from madoguchi.server.api import admin, auth, counters, devices, guide, kiosk, ops, problems, public, reports
from madoguchi.server.api.limits import BodySizeLimit
from madoguchi.server.service.container import Services
from madoguchi.server.web import juminido, staff

API = "/api/v1"
ROUTERS = (
    *((API, m.router) for m in (kiosk, counters, guide, reports, auth, admin, devices)),
    ("", ops.router),
    ("", public.router),
)


def create_app(services: Services) -> FastAPI:
    # Swagger UI from the server itself (fastapi-offline bundles its assets): an office LAN has no CDN
    app = FastAPIOffline(
        title="madoguchi",
        version="1",
        summary="Queue management for the one-stop counters of city offices (書かないワンストップ窓口)",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
        static_url=f"{API}/docs-assets",
        swagger_ui_oauth2_redirect_url=f"{API}/docs/oauth2-redirect",
    )
    app.state.services = services
    app.state.metrics = ops.Metrics()
    app.state.metrics.install(app)
    app.add_middleware(ops.GuardOps, services=services, api=API)  # /metrics and the docs: not public by default
    problems.install(app)
    app.add_middleware(BodySizeLimit)  # outermost: before metrics, routing and authentication
    for prefix, router in ROUTERS:
        app.include_router(router, prefix=prefix)
    staff.install(app)  # the staff pages under /staff/ (server/web/staff.py)
    app.include_router(juminido.router)  # its pre-filled 住民異動届 (server/web/juminido.py)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{API}/docs")

    return app
