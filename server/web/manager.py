"""The manager dashboard (``/staff/manager``, role manager; an admin may open it): the KPIs of a date range
as tables and SVG charts with the city's targets drawn in, and links to the CSV and XLSX exports.

The report runs off the office's lock, on a read-only connection, in a short-lived process of its own at a
lower priority (``report_process``; this handler is sync, so FastAPI waits for it in its thread pool): a long
range never stops a counter from calling. The page's CSV and XLSX links
(``/staff/manager/visits.csv|xlsx``) are made the same way, with the rows of the API's exports.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup

from madoguchi.server import reports
from madoguchi.server.api.reports import EXPORT_TYPES, export_file, kpi_targets
from madoguchi.server.api.security import MANAGER, SESSION_COOKIE
from madoguchi.server.core.catalog import text_in
from madoguchi.server.core.errors import DomainError
from madoguchi.server.web import report_process, staff

router = APIRouter(prefix="/staff/manager", include_in_schema=False)
log = logging.getLogger(__name__)
DEFAULT_DAYS = 30


def _range_problem(start: str, end: str) -> tuple[str, dict[str, object]]:
    """Which message tells the manager what is wrong with a range ``reports.date_range`` refused."""
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        return "range_bad_date", {}
    if last < first:
        return "range_reversed", {}
    return "range_too_long", {"days": reports.MAX_RANGE_DAYS}


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    who = staff.signed_in_as(request, MANAGER, "manager_only", answer="page")
    if isinstance(who, Response):
        return who
    services = staff.services_of(request)
    lang = staff.language(request)
    today = services.clock.now().date()
    start = (request.query_params.get("from") or (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat())[:20]
    end = (request.query_params.get("to") or today.isoformat())[:20]
    context: dict[str, Any] = {
        "principal": who, "csrf": staff.csrf_token(request, request.cookies[SESSION_COOKIE]),
        "start": start, "end": end, "site_name": text_in(services.site.config.name, lang), "error": None,
        "report": None}
    try:
        first, last = reports.date_range(start, end, today)
    except DomainError:
        key, params = _range_problem(start, end)
        context["error"] = staff.translator(lang)(key, **params)
        return staff.page(request, "staff_manager.html", lang, context, status_code=422)

    started = time.perf_counter()
    office = services.office  # labels and catalog figures are fixed at start-up: read without the lock
    try:
        made = report_process.kpi_page(
            services.settings.database_path, services.settings.site, first, last, *kpi_targets(services),
            reports.Names.of(office.catalog, office.bands),
            {p.id: p.handling_min for p in office.catalog.procedures.values()}, lang)
    except report_process.ReportFailed:
        log.exception("the KPI report for %s to %s failed", first, last)
        context["error"] = staff.translator(lang)("report_failed")
        return staff.page(request, "staff_manager.html", lang, context, status_code=503,
                          extra_headers={"Retry-After": "30"})
    context["report"] = made
    context["report_html"] = Markup(made["html"])  # rendered, autoescaped, by manager_report.html
    context["took"] = time.perf_counter() - started
    query = {"from": first.isoformat(), "to": last.isoformat(), "lang": lang}
    context["csv_url"] = f"/staff/manager/visits.csv?{urlencode(query)}"
    context["xlsx_url"] = f"/staff/manager/visits.xlsx?{urlencode(query)}"
    response = staff.page(request, "staff_manager.html", lang, context)
    response.headers["Server-Timing"] = f"report;dur={context['took'] * 1000:.0f}"
    return response


@router.get("/visits.{kind}")
def download(request: Request, kind: str) -> Response:
    """The range's visits, one row each (``reports.to_csv`` / ``to_xlsx``), made in a process of their own;
    headers and names in Japanese, English with ``lang=en``."""
    if kind not in EXPORT_TYPES:
        return staff.refused(request, "not_found", 404)
    who = staff.signed_in_as(request, MANAGER, "manager_only", answer="action")
    if isinstance(who, Response):
        return who
    services = staff.services_of(request)
    asked = request.query_params.get("lang")
    lang = asked if asked in reports.EXPORT_LANGUAGES else staff.language(request)
    start, end = request.query_params.get("from", "")[:20], request.query_params.get("to", "")[:20]
    try:
        first, last = reports.date_range(start or None, end or None, services.clock.now().date())
    except DomainError:
        key, params = _range_problem(start, end)
        detail = staff.translator(staff.language(request))(key, **params)  # links carry good ranges: a typed URL
        return JSONResponse({"code": key, "detail": detail}, status_code=422, headers=staff.HEADERS)
    try:
        answer = export_file(services, first, last, "xlsx" if kind == "xlsx" else "csv", lang)
    except report_process.ReportFailed:
        return staff.refused(request, "report_failed", 503)
    answer.headers.update(staff.HEADERS)
    return answer

