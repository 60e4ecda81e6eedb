"""Reports from the log: per-visit rows (CSV with BOM, XLSX) and the KPIs the city reports.

Exports hold times, procedures and outcomes only (DESIGN §8): no card data, no comments, no tokens.
They are made for a manager who opens them in Excel: column headers in Japanese (English on
request, from the ``export`` message catalog), the names of bands, life events and procedures next
to their ids, and times in the site's local time (real date-time cells in the XLSX).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from madoguchi.common.i18n import message
from madoguchi.server.core.catalog import Band, Catalog, Label, text_in
from madoguchi.server.core.errors import invalid
from madoguchi.server.core.measures import accuracy, quantile
from madoguchi.server.storage import report_queries

VISIT_COLUMNS = (
    "visit_id", "site", "service_date", "band", "number", "life_event", "procedures", "language", "priority",
    "manual", "issued_at", "first_called_at", "finished_at", "wait_min", "stay_min", "outcome", "steps_done",
    "steps_pending", "steps_referred", "satisfaction",
)
# what an export holds: the visit columns with the names of their ids beside them
EXPORT_COLUMNS = tuple(c for column in VISIT_COLUMNS for c in (
    (column, f"{column}_name") if column in ("band", "life_event") else
    (column, "procedure_names") if column == "procedures" else (column,)))
TIME_COLUMNS = ("issued_at", "first_called_at", "finished_at")
EXPORT_LANGUAGES = ("ja", "en")
NAME_SEPARATORS = {"ja": "、", "en": "; "}
EXCEL_TIME = "yyyy-mm-dd hh:mm:ss"
EXCEL_DATE = "yyyy-mm-dd"
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Names:
    """Labels of the ids an export holds, from the site's catalog."""

    bands: Mapping[str, Label] = field(default_factory=dict)
    life_events: Mapping[str, Label] = field(default_factory=dict)
    procedures: Mapping[str, Label] = field(default_factory=dict)

    @classmethod
    def of(cls, catalog: Catalog, bands: Mapping[str, Band]) -> Names:
        return cls({b.id: b.label for b in bands.values()},
                   {e.id: e.label for e in catalog.life_events.values()},
                   {p.id: p.label for p in catalog.procedures.values()})

    @staticmethod
    def name(labels: Mapping[str, Label], key: str, language: str) -> str:
        """The label of ``key`` in ``language``; the id itself when the catalog no longer has it."""
        label = labels.get(key)
        return text_in(label, language) if label else key


def date_range(start: str | dt.date | None, end: str | dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    try:
        first = dt.date.fromisoformat(str(start)) if start else today
        last = dt.date.fromisoformat(str(end)) if end else first
    except ValueError:
        raise invalid("bad_date_range", detail="dates are YYYY-MM-DD", max_days=MAX_RANGE_DAYS) from None
    if last < first:
        raise invalid("bad_date_range", detail=f"{last} is before {first}", max_days=MAX_RANGE_DAYS)
    if (last - first).days >= MAX_RANGE_DAYS:
        raise invalid("bad_date_range", detail=f"at most {MAX_RANGE_DAYS} days at once", max_days=MAX_RANGE_DAYS)
    return first, last


def _minutes(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return round((dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds() / 60, 1)


def visits(conn: sqlite3.Connection, site: str, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """One row per visit issued on those days (the export's rows and the KPIs' input)."""
    tickets, steps = report_queries.visit_rows(conn, site, first, last)
    rows = []
    for t in tickets:
        states = Counter(s["state"] for s in steps[t["id"]])
        rows.append({
            "visit_id": t["id"], "site": t["site"], "service_date": t["service_day"], "band": t["band"],
            "number": t["number"], "life_event": t["life_event"] or "",
            "procedures": ";".join(s["procedure"] for s in steps[t["id"]]), "language": t["language"],
            "priority": ";".join(sorted(json.loads(t["priority"]))), "manual": bool(t["manual"]),
            "issued_at": t["issued_at"], "first_called_at": t["first_called_at"] or "",
            "finished_at": t["finished_at"] or "",
            "wait_min": _minutes(t["issued_at"], t["first_called_at"]),
            "stay_min": _minutes(t["issued_at"], t["finished_at"]) if t["status"] == "done" else None,
            "outcome": t["status"], "steps_done": states["done"], "steps_pending": states["pending"],
            "steps_referred": states["referred"], "satisfaction": t["satisfaction"],
        })
    return rows


def headers(language: str = "ja") -> list[str]:
    """The column headers of an export in ``language`` (ja or en)."""
    return [message("export", column, language) for column in EXPORT_COLUMNS]


def export_rows(rows: Iterable[dict[str, Any]], names: Names | None = None,
                language: str = "ja") -> list[dict[str, Any]]:
    """Visit rows with the names beside the ids, and times as local date-times (no offset)."""
    names = names or Names()
    separator = NAME_SEPARATORS.get(language, "; ")
    out = []
    for row in rows:
        procedures = [p for p in row["procedures"].split(";") if p]
        out.append({
            **row,
            "band_name": names.name(names.bands, row["band"], language),
            "life_event_name": names.name(names.life_events, row["life_event"], language) if row["life_event"] else "",
            "procedure_names": separator.join(names.name(names.procedures, p, language) for p in procedures),
            "service_date": dt.date.fromisoformat(row["service_date"]),
            **{c: _local(row[c]) for c in TIME_COLUMNS},
        })
    return out


def _local(stamp: str | None) -> dt.datetime | None:
    """The site's wall-clock time of a stored ISO timestamp (Excel has no time zones)."""
    return dt.datetime.fromisoformat(stamp).replace(tzinfo=None, microsecond=0) if stamp else None


def to_csv(rows: Iterable[dict[str, Any]], names: Names | None = None, language: str = "ja") -> bytes:
    """UTF-8 with BOM, so Excel opens the Japanese columns correctly; times as 2026-12-07 09:30:00."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers(language))
    for row in export_rows(rows, names, language):
        writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Iterable[dict[str, Any]], names: Names | None = None, language: str = "ja") -> bytes:
    """One sheet ``visits``: a header row, then one row per visit with real date and date-time cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("visits")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        wide = column in TIME_COLUMNS or column.endswith("_name") or column == "procedure_names"
        sheet.column_dimensions[get_column_letter(index)].width = 20 if wide else 12
    sheet.append(headers(language))
    for row in export_rows(rows, names, language):
        cells: list[object] = []
        for column in EXPORT_COLUMNS:
            value = row[column]
            if isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = EXCEL_TIME if isinstance(value, dt.datetime) else EXCEL_DATE
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` quantile rounded to 0.1 for a report (None when there are no values)."""
    return round(quantile(values, share), 1) if values else None


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    return {"count": len(values), "mean": round(sum(values) / len(values), 1) if values else None,
            "p50": percentile(values, 0.5), "p90": percentile(values, 0.9)}


@dataclass(frozen=True)
class StayTarget:
    """The city's stay target for a life event, and the stay measured before (minutes)."""

    target_min: float
    baseline_min: float | None = None


def _stays(stays: Mapping[str, list[float]], targets: Mapping[str, StayTarget]) -> dict[str, dict[str, Any]]:
    """Stay summaries per life event; those with a target also when nobody came for them."""
    out: dict[str, dict[str, Any]] = {}
    for event in sorted({*stays, *targets}):
        values = stays.get(event, [])
        out[event] = summary(values)
        if event in targets:
            target = targets[event]
            out[event].update({
                "target_min": target.target_min, "baseline_min": target.baseline_min,
                "within_target_share": round(sum(v <= target.target_min for v in values) / len(values), 3)
                if values else None})
    return out


def kpi(conn: sqlite3.Connection, site: str, first: dt.date, last: dt.date,
        targets: dict[str, float], stay_targets: Mapping[str, StayTarget] | None = None) -> dict[str, Any]:
    rows = visits(conn, site, first, last)
    waits: dict[str, list[float]] = defaultdict(list)
    stays: dict[str, list[float]] = defaultdict(list)
    arrivals: Counter[str] = Counter()
    for r in rows:
        arrivals[r["issued_at"][11:13]] += 1
        if r["wait_min"] is not None:
            waits[r["band"]].append(r["wait_min"])
        if r["stay_min"] is not None:
            stays[r["life_event"] or "simple_procedure"].append(r["stay_min"])
    bands = {}
    for band, target in targets.items():
        values = waits.get(band, [])
        bands[band] = {**summary(values), "target_wait_min": target,
                       "within_target_share": round(sum(v <= target for v in values) / len(values), 3)
                       if values else None}
    handling: dict[str, list[float]] = defaultdict(list)
    for procedure, started, finished in report_queries.handled_steps(conn, site, first, last):
        minutes = _minutes(started, finished)
        if minutes is not None:
            handling[procedure].append(minutes)
    ended = [r for r in rows if r["outcome"] in ("done", "no_show")]
    ratings = [r["satisfaction"] for r in rows if r["satisfaction"] is not None]
    return {
        "site": site, "from": first.isoformat(), "to": last.isoformat(), "visits": len(rows),
        "bands": bands,
        "stay_min_by_life_event": _stays(stays, stay_targets or {}),
        "handling_min_by_procedure": {k: summary(v) for k, v in sorted(handling.items())},
        "no_shows": sum(r["outcome"] == "no_show" for r in ended), "ended": len(ended),
        "no_show_rate": round(sum(r["outcome"] == "no_show" for r in ended) / len(ended), 3) if ended else None,
        "arrivals_by_hour": dict(sorted(arrivals.items())),
        "satisfaction": {"responses": len(ratings),
                         "mean": round(sum(ratings) / len(ratings), 2) if ratings else None,
                         "distribution": {str(k): ratings.count(k) for k in range(1, 6)}},
        "estimate_accuracy": estimate_accuracy(conn, site, first, last),
    }


def estimate_accuracy(conn: sqlite3.Connection, site: str, first: dt.date, last: dt.date) -> dict[str, Any]:
    """Every estimate given at issue against the wait that followed (DESIGN §3)."""
    triples = []
    for minutes, low, high, issued, called in report_queries.issue_estimates(conn, site, first, last):
        actual = _minutes(issued, called)
        if actual is not None:
            triples.append((minutes, actual, (low, high)))
    if not triples:
        return {"count": 0, "mae_min": None, "underestimate_over_5_share": None, "interval_coverage": None}
    measured = accuracy(triples)
    return {
        "count": measured.n,
        "mae_min": round(measured.mae, 1),
        "underestimate_over_5_share": round(measured.under_share, 3),
        "interval_coverage": round(measured.coverage, 3),
    }
