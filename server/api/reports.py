"""Manager endpoints: KPIs and per-visit exports by date range."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from madoguchi.server import reports
from madoguchi.server.api.security import Manager, ServicesDep

router = APIRouter(prefix="/reports", tags=["manager"])
DateParam = Annotated[str | None, Query(alias="from", description="YYYY-MM-DD (default today)")]
ToParam = Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (default: from)")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(services: ServicesDep, start: str | None, end: str | None) -> tuple[list[dict[str, Any]], str]:
    with services.lock:
        first, last = reports.date_range(start, end, services.clock.now().date())
        rows = reports.visits(services.store.conn, services.settings.site, first, last)
    return rows, f"madoguchi-{services.settings.site}-{first}-{last}"


@router.get("/kpi")
def kpi(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None) -> dict[str, Any]:
    """Waits per band, stay time per life event, handling time per procedure, no-shows, satisfaction."""
    with services.lock:
        first, last = reports.date_range(start, end, services.clock.now().date())
        targets = {b.id: b.target_wait_min for b in services.site.config.bands}
        return reports.kpi(services.store.conn, services.settings.site, first, last, targets)


@router.get("/visits.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def visits_csv(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None) -> Response:
    """One row per visit, UTF-8 with BOM (opens in Excel)."""
    rows, name = _rows(services, start, end)
    return Response(reports.to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/visits.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def visits_xlsx(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None) -> Response:
    rows, name = _rows(services, start, end)
    return Response(reports.to_xlsx(rows), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
