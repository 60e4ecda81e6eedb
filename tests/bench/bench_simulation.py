"""Simulation benchmark (DESIGN §9, issue 5): the balanced policy against today's static routing,
and the project's wait estimate against the QL, LES and ZMS-style baselines, on every scenario.

Each scenario runs both policies on the same residents over SEEDS seeds of DAYS measured days
(after a warm-up day). Full reports and plots go to docs/simulation/; this returns the summary.
Run alone with `.venv/bin/python -m tests.bench.run bench_simulation`.
"""

from __future__ import annotations

import time
from pathlib import Path

from madoguchi.server.config.loading import load
from madoguchi.server.config.schema import default_config_dir
from madoguchi.server.simulate import measures, plots, report, runner
from madoguchi.server.simulate.engine import POLICIES
from madoguchi.server.simulate.runner import RunResult
from madoguchi.server.simulate.scenario import load_scenario, scenario_ids

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "simulation"
SITE = "chuo"
SEEDS = range(1, 21)
DAYS = 5
AIM_MAE_RATIO = 0.7
AIM_UNDER = 0.10
AIM_COVERAGE = (0.75, 0.85)


def _ok(flag: bool) -> str:
    return "✓" if flag else "✗"


def headline_rows(name: str, results: dict[str, RunResult]) -> list[list[str]]:
    rows = []
    cohort = measures.COHORTS[report.SURVEY_COHORT]
    balanced = measures.stays_by_seed(results["balanced"], cohort)
    static = measures.stays_by_seed(results["static"], cohort)
    mean_b, half_b = measures.mean_ci(balanced)
    mean_s, half_s = measures.mean_ci(static)
    p90_b = measures.quantile([x for s in balanced for x in s], 0.9)
    p90_s = measures.quantile([x for s in static for x in s], 0.9)
    mean_ratio = measures.bootstrap_ratio(balanced, static, measures.mean)
    p90_ratio = measures.bootstrap_ratio(balanced, static, lambda v: measures.quantile(v, 0.9))
    n = sum(len(s) for s in static)
    rows.append([name, str(n), f"{mean_s:.1f} ± {half_s:.1f}", f"{mean_b:.1f} ± {half_b:.1f}",
                 f"**{mean_ratio.value:.2f}** ({mean_ratio.low:.2f}–{mean_ratio.high:.2f})",
                 f"{p90_s:.0f}", f"{p90_b:.0f}", f"{p90_ratio.value:.2f} ({p90_ratio.low:.2f}–{p90_ratio.high:.2f})"])
    return rows


def band_rows(name: str, results: dict[str, RunResult], targets: dict[str, float]) -> list[list[str]]:
    rows = []
    for policy, result in results.items():
        waits = measures.band_waits(result)
        cells = []
        for band, target in targets.items():
            p90 = measures.quantile(waits.get(band, []), 0.9)
            cells.append(f"{p90:.0f} / {target:.0f} {_ok(p90 <= target)}")
        rows.append([name, policy, *cells])
    return rows


def accuracy_rows(name: str, result: RunResult) -> list[list[str]]:
    found = measures.accuracy(result)
    ours = found["project"]
    ratios = {b: ours.mae / found[b].mae for b in ("QL", "LES", "ZMS")}
    best = max(ratios.values())  # against the best baseline: the one with the least MAE
    waited = measures.accuracy(result, lambda t: t.estimate is not None and t.estimate.minutes > 0)["project"]
    return [[name, result.policy, str(ours.n), f"{ours.mae:.2f}",
             *(f"{ratios[b]:.2f}" for b in ("QL", "LES", "ZMS")), f"{best:.2f} {_ok(best <= AIM_MAE_RATIO)}",
             f"{100 * ours.under_share:.1f}% {_ok(ours.under_share <= AIM_UNDER)}",
             f"{100 * ours.coverage:.0f}% {_ok(AIM_COVERAGE[0] <= ours.coverage <= AIM_COVERAGE[1])}",
             f"{100 * waited.coverage:.0f}%"]]


def run() -> str:
    config_dir = default_config_dir()
    site = load(config_dir, SITE)
    targets = {b.id: b.target_wait_min for b in site.rules.bands}
    OUT.mkdir(parents=True, exist_ok=True)
    headline: list[list[str]] = []
    bands: list[list[str]] = []
    accuracy: list[list[str]] = []
    speed: list[list[str]] = []
    calibration = ""
    split = ""
    started = time.perf_counter()
    for name in scenario_ids(config_dir):
        scenario = load_scenario(config_dir, name)
        if scenario.site != SITE:
            continue
        results = runner.run(site.rules, site.catalog, scenario, POLICIES, SEEDS, DAYS)
        typed: dict[str, RunResult] = dict(results)
        headline += headline_rows(name, typed)
        bands += band_rows(name, typed, targets)
        for policy in ("balanced", "static"):
            accuracy += accuracy_rows(name, results[policy])
        days = sum(r.site_days + len(r.runs) for r in results.values())  # warm-up days run too
        seconds = sum(r.seconds for r in results.values())
        speed.append([name, str(days), f"{seconds:.1f}", f"{days / seconds * 60:.0f}"])
        command = (f"madoguchi simulate --site {SITE} --scenario {name} --days {DAYS} --seed {SEEDS.start} "
                   f"--seeds {len(SEEDS)} --policy both")
        pngs = [p.name for p in plots.all_plots(results, targets, OUT, name)]
        text = report.scenario_report(results, targets, command, pngs)
        (OUT / f"{name}.md").write_text(f"# Simulation of {SITE}: {name}\n\n{text}", encoding="utf-8")
        if name == "ordinary":
            mean, half, ok = report.survey_check(results["static"])
            calibration = (f"Calibration: static policy, ordinary day, 転入 across 3 departments: **{mean:.1f} ± "
                           f"{half:.1f} min** against the city's {report.CITY_STATIC_MIN:.0f} min (±10%: "
                           f"{0.9 * report.CITY_STATIC_MIN:.0f}–{1.1 * report.CITY_STATIC_MIN:.0f}) {_ok(ok)}")
            split = report.split_table(results)
    total_days = sum(int(r[1]) for r in speed)
    total_s = sum(float(r[2]) for r in speed)
    speed.append(["**all**", str(total_days), f"{total_s:.1f}", f"**{total_days / total_s * 60:.0f}**"])
    band_ids = list(targets)
    parts = [
        "## Simulation: balanced policy vs today's static routing, and wait estimates",
        f"`.venv/bin/python -m tests.bench.run bench_simulation` — site {SITE}, every scenario of "
        f"config/scenarios/, both policies on the same residents, {len(SEEDS)} seeds × {DAYS} days after a "
        f"warm-up day; {time.perf_counter() - started:.0f} s. Model, sources and assumptions: "
        "[docs/simulation.md](simulation.md); full reports and plots per scenario: docs/simulation/.",
        calibration,
        "### Stay of a 転入 visit across 区民課, 福祉課 and 保健子ども課 (minutes)",
        "The city aims at 129 → 79 min, a ratio of 0.61. Ratio CIs: 95% percentile bootstrap over seeds, paired.",
        report.table(["scenario", "visits", "static mean", "balanced mean", "mean ratio (95% CI)",
                      "static p90", "balanced p90", "p90 ratio (95% CI)"], headline),
        "Where the time goes on the ordinary day (mean minutes):",
        split,
        "### p90 wait per band against its target (minutes, issue to first call)",
        report.table(["scenario", "policy", *band_ids], bands),
        "### Wait estimates at issue: the project's estimator against the baselines",
        f"MAE ratio = project MAE ÷ baseline MAE (aim ≤ {AIM_MAE_RATIO} of the best baseline); underestimate = "
        f"called more than 5 min after the estimate (aim ≤ {100 * AIM_UNDER:.0f}%); coverage of the 80% interval "
        f"(aim {100 * AIM_COVERAGE[0]:.0f}–{100 * AIM_COVERAGE[1]:.0f}%), over all tickets and over those that had "
        "to wait.",
        report.table(["scenario", "policy", "tickets", "MAE min", "÷ QL", "÷ LES", "÷ ZMS", "÷ best",
                      "underestimates", "coverage", "coverage (waited)"], accuracy),
        "### Speed (one process, one core, CPU time; estimates computed at every issue)",
        report.table(["scenario", "site-days", "CPU seconds", "site-days / min"], speed),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"

