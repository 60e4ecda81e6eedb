"""Every report (the KPIs, the CSV and XLSX exports; the dashboard's and the JSON API's) made in a
short-lived process of its own, at a lower CPU priority, at most ``AT_ONCE`` at a time.

A thread is not enough: a report is Python work on thousands of rows, and in the server's process it holds
the GIL against the event loop and the writer, so a counter's call-next waited tens of milliseconds behind a
30-day report (measured: p99 2.7 → 72 ms; an XLSX of 30 days of 中央区 is 2 s of it; docs/benchmarks.md).
In a process of its own (``nice`` 10) the report reads the database on a read-only connection and the
counters keep their core and their GIL. Starting it costs ~0.1 s, once per page or download.

Run as ``python -m madoguchi.server.web.report_process``: the job as JSON on stdin; on stdout the KPI
sections of the dashboard already rendered (``manager_view``: even Jinja would take the GIL), the KPIs as
JSON for the API, or the export's bytes. Exports hold times, procedures and outcomes only (``reports``; DESIGN §8).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from madoguchi.server import reports
from madoguchi.server.storage.database import connect_read_only

NICE = 10
TIMEOUT_S = 120.0
AT_ONCE = 2
"""Reports running at once (each a process of its own); the next waits its turn, up to ``TURN_WAIT_S``."""
TURN_WAIT_S = 5.0
"""Short: a waiting report holds a thread of the server's pool, which the counters' requests need too."""
ExportKind = Literal["csv", "xlsx"]
_turns = threading.BoundedSemaphore(AT_ONCE)


class ReportFailed(RuntimeError):
    """The report's process failed, took longer than ``TIMEOUT_S``, or waited ``TURN_WAIT_S`` for its turn."""


@contextlib.contextmanager
def _turn() -> Iterator[None]:
    if not _turns.acquire(timeout=TURN_WAIT_S):
        raise ReportFailed(f"{AT_ONCE} reports were running for {TURN_WAIT_S:.0f} s")
    try:
        yield
    finally:
        _turns.release()


def _run(job: dict[str, Any]) -> bytes:
    with _turn():
        return _run_now(job)


def _run_now(job: dict[str, Any]) -> bytes:
    try:
        run = subprocess.run([sys.executable, "-m", __name__], input=json.dumps(job, ensure_ascii=False).encode(),
                             capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ReportFailed(f"the report took longer than {TIMEOUT_S:.0f} s") from None
    if run.returncode != 0:
        raise ReportFailed(run.stderr.decode(errors="replace")[-1000:])
    return run.stdout


def _range(database: Path, site: str, first: dt.date, last: dt.date) -> dict[str, Any]:
    return {"database": str(database), "site": site, "first": first.isoformat(), "last": last.isoformat()}


def kpi_page(database: Path, site: str, first: dt.date, last: dt.date, targets: dict[str, float],
             stay_targets: dict[str, reports.StayTarget], names: reports.Names, planned: dict[str, float],
             language: str) -> dict[str, Any]:
    """``reports.kpi`` for the range and its sections of the dashboard as HTML, made in a child process:
    ``{"from", "to", "visits", "html"}``."""
    answer: dict[str, Any] = json.loads(_run({
        **_range(database, site, first, last), "kind": "kpi_page", "targets": targets,
        "stay_targets": _stays(stay_targets),
        "names": _names(names), "planned": planned, "language": language}))
    return answer


def kpi(database: Path, site: str, first: dt.date, last: dt.date, targets: dict[str, float],
        stay_targets: dict[str, reports.StayTarget]) -> dict[str, Any]:
    """``reports.kpi`` for the range, made in a child process (the JSON API's ``/reports/kpi``)."""
    answer: dict[str, Any] = json.loads(_run({**_range(database, site, first, last), "kind": "kpi",
                                              "targets": targets, "stay_targets": _stays(stay_targets)}))
    return answer


def _stays(stay_targets: dict[str, reports.StayTarget]) -> dict[str, list[float]]:
    return {k: [t.target_min, t.baseline_min] for k, t in stay_targets.items()}


def _names(names: reports.Names) -> dict[str, Any]:
    return {"bands": dict(names.bands), "life_events": dict(names.life_events), "procedures": dict(names.procedures)}


def export(database: Path, site: str, first: dt.date, last: dt.date, kind: ExportKind, names: reports.Names,
           language: str) -> bytes:
    """``reports.to_csv`` or ``to_xlsx`` of the range's visits, made in a child process."""
    return _run({**_range(database, site, first, last), "kind": kind, "language": language,
                 "names": _names(names)})


def _answer(job: dict[str, Any]) -> bytes:
    first, last = dt.date.fromisoformat(job["first"]), dt.date.fromisoformat(job["last"])
    conn = connect_read_only(Path(job["database"]))
    try:
        if job["kind"] in ("kpi", "kpi_page"):
            stays = {k: reports.StayTarget(*v) for k, v in job["stay_targets"].items()}
            data = reports.kpi(conn, job["site"], first, last, job["targets"], stays)
            if job["kind"] == "kpi":
                return json.dumps(data, ensure_ascii=False).encode()
            from madoguchi.server.web import manager_view  # Jinja and the charts: the dashboard's job only

            names = reports.Names(**job["names"])
            html = manager_view.render(data, names, job["planned"], job["language"])
            return json.dumps({"from": data["from"], "to": data["to"], "visits": data["visits"], "html": html},
                              ensure_ascii=False).encode()
        rows = reports.visits(conn, job["site"], first, last)
    finally:
        conn.close()
    make = reports.to_xlsx if job["kind"] == "xlsx" else reports.to_csv
    return make(rows, reports.Names(**job["names"]), job["language"])


def main() -> int:
    if hasattr(os, "nice"):
        os.nice(NICE)  # the counters first: the report takes what CPU is left
    sys.stdout.buffer.write(_answer(json.loads(sys.stdin.buffer.read())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
