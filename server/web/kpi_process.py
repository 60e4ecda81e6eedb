"""The dashboard's KPI report computed in a short-lived process of its own, at a lower CPU priority.

A thread is not enough: the report is Python work on thousands of rows, and in the server's process it
holds the GIL against the event loop and the writer, so a counter's call-next waited tens of
milliseconds behind a 30-day report (measured: p99 2.7 → 72 ms, docs/benchmarks.md). In a process of its
own (``nice`` 10) the report reads the database on a read-only connection and the counters keep their
core and their GIL. Starting it costs ~0.1 s, once per page.

Run as ``python -m madoguchi.server.web.kpi_process``: the job as JSON on stdin, the report as JSON on
stdout. Only aggregates cross (no row of a visit, no card data: reports never read it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from madoguchi.server import reports
from madoguchi.server.storage.database import connect_read_only

NICE = 10
TIMEOUT_S = 120.0


class ReportFailed(RuntimeError):
    """The report's process failed or took longer than ``TIMEOUT_S``."""


def kpi(database: Path, site: str, first: dt.date, last: dt.date, targets: dict[str, float],
        stay_targets: dict[str, reports.StayTarget]) -> dict[str, Any]:
    """``reports.kpi`` for the range, computed in a child process."""
    job = {"database": str(database), "site": site, "first": first.isoformat(), "last": last.isoformat(),
           "targets": targets,
           "stay_targets": {k: [t.target_min, t.baseline_min] for k, t in stay_targets.items()}}
    try:
        run = subprocess.run([sys.executable, "-m", __name__], input=json.dumps(job).encode(),
                             capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ReportFailed(f"the report took longer than {TIMEOUT_S:.0f} s") from None
    if run.returncode != 0:
        raise ReportFailed(run.stderr.decode(errors="replace")[-1000:])
    answer: dict[str, Any] = json.loads(run.stdout)
    return answer


def main() -> int:
    if hasattr(os, "nice"):
        os.nice(NICE)  # the counters first: the report takes what CPU is left
    job = json.loads(sys.stdin.buffer.read())
    conn = connect_read_only(Path(job["database"]))
    try:
        data = reports.kpi(conn, job["site"], dt.date.fromisoformat(job["first"]), dt.date.fromisoformat(job["last"]),
                           job["targets"], {k: reports.StayTarget(*v) for k, v in job["stay_targets"].items()})
    finally:
        conn.close()
    sys.stdout.write(json.dumps(data, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
