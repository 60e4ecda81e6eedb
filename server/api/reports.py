"""Manager endpoints: KPIs and per-visit exports by date range."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from madoguchi.server import reports
from madoguchi.server.api.security import Manager, ServicesDep
from madoguchi.server.service.container import Services
from madoguchi.server.storage.database import connect_read_only

router = APIRouter(prefix="/reports", tags=["manager"])
DateParam = Annotated[str | None, Query(alias="from", description="YYYY-MM-DD (default today)")]
ToParam = Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (default: from)")]
LangParam = Annotated[Literal["ja", "en"], Query(description="Language of the column headers and names")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@contextlib.contextmanager
def report_connection(services: Services) -> Iterator[sqlite3.Connection]:
    """Reports read on a connection of their own, off the office's lock: a year's export never stops
    a counter from calling (these handlers are sync, so FastAPI runs them in its thread pool)."""
    conn = connect_read_only(services.settings.database_path)
    try:
        yield conn
    finally:
        conn.close()


def _rows(services: Services, start: str | None, end: str | None) -> tuple[list[dict[str, Any]], str]:
    first, last = reports.date_range(start, end, services.clock.now().date())
    with report_connection(services) as conn:
        rows = reports.visits(conn, services.settings.site, first, last)
    return rows, f"madoguchi-{services.settings.site}-{first}-{last}"


def _names(services: Services) -> reports.Names:
    office = services.office  # labels are fixed at start-up: read without the office's lock
    return reports.Names.of(office.catalog, office.bands)


@router.get("/kpi")
def kpi(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None) -> dict[str, Any]:
    """Waits per band, stay time per life event (with the city's targets), handling time per procedure,
    no-shows, arrivals per hour, satisfaction, estimate accuracy."""
    first, last = reports.date_range(start, end, services.clock.now().date())
    with report_connection(services) as conn:
        return reports.kpi(conn, services.settings.site, first, last, *kpi_targets(services))


def kpi_targets(services: Services) -> tuple[dict[str, float], dict[str, reports.StayTarget]]:
    """The wait target of each band and the city's stay targets per life event, from the site's config."""
    config = services.site.config
    return ({b.id: b.target_wait_min for b in config.bands},
            {event: reports.StayTarget(t.target, t.baseline) for event, t in config.kpi_targets.stay_min.items()})


@router.get("/visits.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def visits_csv(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None,
               lang: LangParam = "ja") -> Response:
    """One row per visit, UTF-8 with BOM (opens in Excel); headers and names in Japanese unless ``lang=en``."""
    rows, name = _rows(services, start, end)
    return Response(reports.to_csv(rows, _names(services), lang), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/visits.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def visits_xlsx(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None,
                lang: LangParam = "ja") -> Response:
    """The same rows as a workbook, times as date-time cells (the site's local time)."""
    rows, name = _rows(services, start, end)
    return Response(reports.to_xlsx(rows, _names(services), lang), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
