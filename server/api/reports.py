"""Manager endpoints: KPIs and per-visit exports by date range.

Each is made by ``web.report_process`` in a short-lived process of its own at a lower priority, as the
dashboard's are: a year's XLSX is seconds of Python that, in the server's process, would hold the GIL against
every counter's call. These handlers are sync, so FastAPI waits for that process in its thread pool.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from madoguchi.server import reports
from madoguchi.server.api.problems import ApiError
from madoguchi.server.api.security import Manager, ServicesDep
from madoguchi.server.service.container import Services
from madoguchi.server.web import report_process

router = APIRouter(prefix="/reports", tags=["manager"])
log = logging.getLogger(__name__)
DateParam = Annotated[str | None, Query(alias="from", description="YYYY-MM-DD (default today)")]
ToParam = Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (default: from)")]
LangParam = Annotated[Literal["ja", "en"], Query(description="Language of the column headers and names")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
RETRY_AFTER = {"Retry-After": "30"}


def _range(services: Services, start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    return reports.date_range(start, end, services.clock.now().date())


def _names(services: Services) -> reports.Names:
    office = services.office  # labels are fixed at start-up: read without the office's lock
    return reports.Names.of(office.catalog, office.bands)


@router.get("/kpi", responses={503: {"description": "The report could not be made (logged); retry later"}})
def kpi(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None) -> dict[str, Any]:
    """Waits per band, stay time per life event (with the city's targets), handling time per procedure,
    no-shows, arrivals per hour, satisfaction, estimate accuracy."""
    first, last = _range(services, start, end)
    try:
        return report_process.kpi(services.settings.database_path, services.settings.site, first, last,
                                  *kpi_targets(services))
    except report_process.ReportFailed:
        log.exception("the KPI report for %s to %s failed", first, last)
        raise ApiError(503, "report_failed", RETRY_AFTER) from None


def kpi_targets(services: Services) -> tuple[dict[str, float], dict[str, reports.StayTarget]]:
    """The wait target of each band and the city's stay targets per life event, from the site's config."""
    config = services.site.config
    return ({b.id: b.target_wait_min for b in config.bands},
            {event: reports.StayTarget(t.target, t.baseline) for event, t in config.kpi_targets.stay_min.items()})


def export_file(services: Services, first: dt.date, last: dt.date, kind: report_process.ExportKind,
                lang: str) -> Response:
    """The range's visits as a download, made in the report's process (the API's and the dashboard's);
    a failure is logged and raised as ``report_process.ReportFailed``."""
    try:
        body = report_process.export(services.settings.database_path, services.settings.site, first, last, kind,
                                     _names(services), lang)
    except report_process.ReportFailed:
        log.exception("the %s export for %s to %s failed", kind, first, last)
        raise
    name = f"madoguchi-{services.settings.site}-{first}-{last}.{kind}"
    return Response(body, media_type=EXPORT_TYPES[kind],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _export(services: Services, start: str | None, end: str | None, kind: report_process.ExportKind,
            lang: str) -> Response:
    first, last = _range(services, start, end)
    try:
        return export_file(services, first, last, kind, lang)
    except report_process.ReportFailed:
        raise ApiError(503, "report_failed", RETRY_AFTER) from None


@router.get("/visits.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def visits_csv(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None,
               lang: LangParam = "ja") -> Response:
    """One row per visit, UTF-8 with BOM (opens in Excel); headers and names in Japanese unless ``lang=en``."""
    return _export(services, start, end, "csv", lang)


@router.get("/visits.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def visits_xlsx(services: ServicesDep, _: Manager, start: DateParam = None, end: ToParam = None,
                lang: LangParam = "ja") -> Response:
    """The same rows as a workbook, times as date-time cells (the site's local time)."""
    return _export(services, start, end, "xlsx", lang)
