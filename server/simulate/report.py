"""Markdown tables of a simulation run: stay, where it went, waits per band, estimate accuracy."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from madoguchi.server.simulate import measures
from madoguchi.server.simulate.engine import ARMS, LADDER, PolicyName
from madoguchi.server.simulate.runner import RunResult

SURVEY_COHORT = "転入 (3 departments)"
CITY_STATIC_MIN = 129.0  # the city's R6 survey: 転入 across 区民課, 福祉課, 保健子ども課, today
CITY_TARGET_MIN = 79.0  # the city's target with the one-stop counter


def fmt(value: float, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def pct(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.0f}%"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def stay_table(results: Mapping[PolicyName, RunResult]) -> str:
    rows = []
    for cohort_name, cohort in measures.ALL_COHORTS.items():
        for policy, result in results.items():
            by_seed = measures.stays_by_seed(result, cohort)
            pooled = [x for s in by_seed for x in s]
            mean, half = measures.mean_ci(by_seed)
            rows.append([cohort_name, policy, str(len(pooled)), f"{fmt(mean)} ± {fmt(half)}",
                         fmt(measures.quantile(pooled, 0.9))])
    return table(["visits", "policy", "n", "mean stay min (95% CI)", "p90 stay min"], rows)


def ratio_table(results: Mapping[PolicyName, RunResult]) -> str:
    if not {"guided", "today"} <= set(results):
        return ""
    rows = []
    for cohort_name, cohort in measures.ALL_COHORTS.items():
        project = measures.stays_by_seed(results["guided"], cohort)
        today = measures.stays_by_seed(results["today"], cohort)
        for label, statistic in (("mean", measures.mean), ("p90", _p90)):
            r = measures.bootstrap_ratio(project, today, statistic)
            rows.append([cohort_name, label, fmt(r.value, 2), f"{fmt(r.low, 2)} – {fmt(r.high, 2)}"])
    return table(["visits", "stay", "project ÷ today", "95% CI (bootstrap over seeds)"], rows)


def ladder_rows(results: Mapping[PolicyName, RunResult], targets: Mapping[str, float]) -> list[list[str]]:
    """One row per rung present: stays (censored at close), the change from the rung before with a
    paired 95% CI over seeds, residents unserved at close per day, and each band's p90 visit wait."""
    rows = []
    previous: RunResult | None = None
    for name in LADDER:
        result = results.get(name)
        if result is None:
            continue
        cells = [ARMS[name].label]
        for cohort in measures.LADDER_COHORTS.values():
            stays = measures.stays_by_seed(result, cohort)
            mean, half = measures.mean_ci(stays)
            cells.append(f"{fmt(mean, 0)} ± {fmt(half, 0)}")
            if previous is None:
                cells.append("")
            else:
                r = measures.bootstrap_ratio(stays, measures.stays_by_seed(previous, cohort), measures.mean)
                cells.append(f"{fmt(r.value, 2)} ({fmt(r.low, 2)}–{fmt(r.high, 2)})")
        unserved = measures.unserved_by_seed(result)
        cells.append(fmt(measures.mean(x for s in unserved for x in s)))
        if previous is None:
            cells.append("")
        else:
            d = measures.paired_difference(unserved, measures.unserved_by_seed(previous), measures.mean)
            cells.append(f"{d.value:+.1f} ({d.low:+.1f}–{d.high:+.1f})")
        for band, target in targets.items():
            waits = [x for s in measures.visit_waits_by_seed(result, band) for x in s]
            p90 = measures.quantile(waits, 0.9)
            cells.append(f"{fmt(p90, 0)} {'✓' if p90 <= target else '✗'}")
        rows.append(cells)
        previous = result
    return rows


def ladder_header(targets: Mapping[str, float]) -> list[str]:
    return ["rung", "all visits: mean stay", "÷ rung above", "転入: mean stay", "÷ rung above",
            "unserved at close / day", "− rung above", *(f"p90 wait {b} (≤ {t:.0f})" for b, t in targets.items())]


def ladder_table(results: Mapping[PolicyName, RunResult], targets: Mapping[str, float]) -> str:
    return table(ladder_header(targets), ladder_rows(results, targets))


def contribution(results: Mapping[PolicyName, RunResult], top: PolicyName, bottom: PolicyName,
                 cohort_name: str = "all visits") -> measures.Ratio | None:
    """Mean stay of ``top`` ÷ that of ``bottom`` on the same residents, with its paired 95% CI."""
    if top not in results or bottom not in results:
        return None
    cohort = measures.LADDER_COHORTS[cohort_name]
    return measures.bootstrap_ratio(measures.stays_by_seed(results[top], cohort),
                                    measures.stays_by_seed(results[bottom], cohort), measures.mean)


def _p90(values: Sequence[float]) -> float:
    return measures.quantile(values, 0.9)


def split_table(results: Mapping[PolicyName, RunResult], cohort_name: str = SURVEY_COHORT) -> str:
    cohort = measures.COHORTS[cohort_name]
    rows = []
    for policy, result in results.items():
        s = measures.split(result, cohort)
        rows.append([policy, str(s.n), fmt(s.stay), fmt(s.forms), fmt(s.wait), fmt(s.walk), fmt(s.handling)])
    return table(["policy", "n", "stay", "forms / kiosk", "waiting", "walking", "handling"], rows)


def band_table(results: Mapping[PolicyName, RunResult], targets: Mapping[str, float]) -> str:
    rows = []
    for policy, result in results.items():
        for band, waits in sorted(measures.band_waits(result).items()):
            target = targets.get(band, math.nan)
            over = sum(w > target for w in waits) / len(waits) if waits else math.nan
            p90 = measures.quantile(waits, 0.9)
            rows.append([policy, band, str(len(waits)), fmt(measures.mean(waits)), fmt(p90), fmt(target, 0),
                         "yes" if p90 <= target else "no", pct(over)])
    return table(["policy", "band", "tickets", "mean wait", "p90 wait", "target", "p90 ≤ target",
                  "tickets over target"], rows)


def accuracy_table(result: RunResult, predicate: Callable[[measures.TicketRecord], bool] = lambda t: True) -> str:
    found = measures.accuracy(result, predicate)
    ours = found["project"].mae
    rows = []
    for name, a in found.items():
        ratio = "1.00" if name == "project" else fmt(ours / a.mae, 2) if a.mae else "–"
        rows.append([name, str(a.n), fmt(a.mae, 2), ratio, pct(a.under_share), pct(a.coverage)])
    return table(["predictor", "tickets", "MAE min", "project MAE ÷ this", "under by > 5 min",
                  "80% interval coverage"], rows)


def outcome_table(results: Mapping[PolicyName, RunResult]) -> str:
    rows = []
    for policy, result in results.items():
        counts: dict[str, int] = {}
        for v in measures.visits(result):
            counts[v.outcome] = counts.get(v.outcome, 0) + 1
        total = sum(counts.values())
        rate = result.site_days / result.seconds * 60 if result.seconds else math.nan
        rows.append([policy, str(total), str(counts.get("done", 0)), str(counts.get("no_show", 0)),
                     str(counts.get("open", 0)), fmt(rate, 0)])
    return table(["policy", "arrivals", "served", "no-show", "open at close", "site-days / min"], rows)


def move_table(check: measures.MoveCheck) -> str:
    return table(["moves / day", "going back", "moves checked", "band joined: estimate without the move",
                  "predicted with it", "mean wait that followed", "MAE of the prediction"],
                 [[fmt(check.moves_per_day), pct(check.returning_share), str(check.n_checked),
                   fmt(check.before_to), fmt(check.predicted_to), fmt(check.actual_to), fmt(check.mae_to)]])


def scenario_report(results: Mapping[PolicyName, RunResult], targets: Mapping[str, float], command: str,
                    plots: Sequence[str] = ()) -> str:
    first = next(iter(results.values()))
    scenario = first.scenario
    seeds = len(first.runs)
    days = len(first.runs[0].days) if first.runs else 0
    parts = [
        f"## Scenario `{scenario.name}` — {scenario.description}",
        f"`{command}` — {seeds} seeds × {days} days (after a warm-up day), site {scenario.site}.",
        "### Stay time (arrival to leaving)",
        "Finished visits and those still there at close (their stay counted until the close); no-shows "
        "left out.", stay_table(results),
    ]
    if len(results) > 1:
        parts += ["### The ladder, same residents (each rung adds one change to the one above)",
                  "Ratios and differences: paired 95% percentile bootstrap over seeds; p90 wait: the whole "
                  "wait of a visit of the band (every queue it stood in), ✓ within the band's target.",
                  ladder_table(results, targets)]
    ratios = ratio_table(results)
    if ratios:
        parts += ["### The project ÷ today's office, same residents", ratios]
    parts += [
        f"### Where the {SURVEY_COHORT} visit's time goes (mean minutes)", split_table(results),
        "### Waits per band (issue to first call, minutes)", band_table(results, targets),
    ]
    for policy, result in results.items():
        if not any(t.estimate is not None for t in measures.tickets(result)):
            continue
        parts += [f"### Estimate accuracy at issue, {policy}", "Every ticket estimated at issue, those never "
                  "called counted with their wait until close.", accuracy_table(result),
                  "Among tickets that actually waited (not called at once):",
                  accuracy_table(result, measures.waited)]
    guided = results.get("guided")
    if guided is not None:
        check = measures.move_check(guided, scenario.balanced.guide_every_min)
        parts += ["### The floor guide's moves against what followed", move_table(check)]
    parts += ["### Outcomes and speed", outcome_table(results)]
    parts += [f"![{p}]({p})" for p in plots]
    return "\n\n".join(parts) + "\n"


def survey_check(static: RunResult) -> tuple[float, float, bool]:
    """The static 転入 (3 departments) mean stay, its 95% CI half-width, and whether it is 129 ± 10%."""
    mean, half = measures.mean_ci(measures.stays_by_seed(static, measures.COHORTS[SURVEY_COHORT]))
    return mean, half, abs(mean - CITY_STATIC_MIN) <= 0.1 * CITY_STATIC_MIN
