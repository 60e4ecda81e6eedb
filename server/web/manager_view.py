"""The manager dashboard's KPI sections: figures named in the page's language, the charts' geometry, and
their HTML (``templates/manager_report.html``), made in the report's own process (``report_process``) so
that not even the rendering takes the server's GIL from the counters. Imports no web framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, select_autoescape

from madoguchi.common.i18n import message
from madoguchi.server import reports
from madoguchi.server.web.charts import RowSpec, column_chart, row_chart

TEMPLATES = Path(__file__).resolve().parent / "templates"
SIMPLE = "simple_procedure"
"""The key ``reports.kpi`` gives the stays of visits for single procedures (no life event)."""


def render(data: dict[str, Any], names: reports.Names, planned: Mapping[str, float], lang: str) -> str:
    """The KPI sections as HTML (autoescaped, as the pages' own templates)."""
    # each report is a new process: the compiled template is kept in Jinja's per-user temporary folder (a
    # changed template is compiled again), which spares every page ~0.1 s of compiling
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      bytecode_cache=FileSystemBytecodeCache())
    return env.get_template("manager_report.html").render(
        report=view(data, names, planned, lang), t=lambda key, **params: message("staff", key, lang, **params))


def view(data: dict[str, Any], names: reports.Names, planned: Mapping[str, float], lang: str) -> dict[str, Any]:
    """The report's figures with names in ``lang`` and the charts' geometry (``planned``: the catalog's
    handling minutes per procedure)."""
    def t(key: str, **params: object) -> str:
        return message("staff", key, lang, **params)

    def name(labels: Any, key: str) -> str:
        return reports.Names.name(labels, key, lang)

    bands = [{"id": band, "label": name(names.bands, band), **figures} for band, figures in data["bands"].items()]
    no_target = {"target_min": None, "baseline_min": None, "within_target_share": None}
    stays = [{"id": event, "label": t("simple_procedure") if event == SIMPLE else name(names.life_events, event),
              **no_target, **figures} for event, figures in data["stay_min_by_life_event"].items()]
    handling = [{"id": p, "label": name(names.procedures, p),
                 "planned": planned.get(p),
                 **figures} for p, figures in data["handling_min_by_procedure"].items()]
    hours = range(min([8, *map(int, data["arrivals_by_hour"])]), max([17, *map(int, data["arrivals_by_hour"])]) + 1)
    arrivals = [{"hour": h, "label": t("hour_label", h=h), "count": data["arrivals_by_hour"].get(f"{h:02d}", 0)}
                for h in hours]
    ratings = [{"rating": int(k), "count": v} for k, v in data["satisfaction"]["distribution"].items()]
    return {
        **data, "band_rows": bands, "stay_rows": stays, "handling_rows": handling, "arrival_rows": arrivals,
        "rating_rows": ratings,
        "wait_chart": row_chart([RowSpec(b["label"], [("p50", b["p50"]), ("p90", b["p90"])],
                                         [("target", b["target_wait_min"])]) for b in bands]),
        "stay_chart": row_chart([RowSpec(s["label"], [("p50", s["p50"]), ("p90", s["p90"])],
                                         [("baseline", s["baseline_min"]), ("target", s["target_min"])])
                                 for s in stays]),
        "handling_chart": row_chart([RowSpec(h["label"], [("p50", h["p50"]), ("p90", h["p90"])],
                                             [("planned", h["planned"])]) for h in handling]),
        "arrival_chart": column_chart([(a["label"], a["count"]) for a in arrivals]),
        "rating_chart": column_chart([(str(r["rating"]), r["count"]) for r in ratings]),
    }
