"""PNG plots of a simulation run (matplotlib, no screen needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from madoguchi.server.simulate import measures
from madoguchi.server.simulate.engine import PolicyName
from madoguchi.server.simulate.report import CITY_STATIC_MIN, CITY_TARGET_MIN, SURVEY_COHORT
from madoguchi.server.simulate.runner import RunResult

COLOURS = {"today": "#c51b7d", "kakanai": "#e9a3c9", "fifo": "#7fbf7b", "balanced": "#1b7837",
           "guided": "#00441b"}


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def wait_by_hour(results: Mapping[PolicyName, RunResult], targets: Mapping[str, float], path: Path) -> Path:
    """Mean and p90 wait (issue to first call) by hour of issue, one panel per band."""
    plt = _pyplot()
    present = {t.band for r in results.values() for t in measures.tickets(r)}
    bands = [b for b in targets if b in present] + sorted(present - set(targets))
    fig, axes = plt.subplots(1, len(bands), figsize=(4.2 * len(bands), 3.6), sharey=True, squeeze=False)
    for ax, band in zip(axes[0], bands, strict=True):
        for policy, result in results.items():
            grouped = measures.by_hour((t.issued_min, t.wait_min) for t in measures.tickets(result)
                                       if t.band == band and t.wait_min is not None)
            hours = sorted(grouped)
            ax.plot(hours, [measures.mean(grouped[h]) for h in hours], "-o", color=COLOURS[policy],
                    label=f"{policy} mean", markersize=3)
            ax.plot(hours, [measures.quantile(grouped[h], 0.9) for h in hours], "--", color=COLOURS[policy],
                    label=f"{policy} p90", linewidth=1)
        if band in targets:
            ax.axhline(targets[band], color="grey", linewidth=0.8, linestyle=":", label="target")
        ax.set_title(f"band {band}")
        ax.set_xlabel("hour of issue")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("wait until called (min)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def stay_by_hour(results: Mapping[PolicyName, RunResult], path: Path) -> Path:
    """Mean stay of 転入 visits by hour of arrival."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for cohort_name, style in ((SURVEY_COHORT, "-o"), ("転入 (all)", "--")):
        cohort = measures.COHORTS[cohort_name]
        label = "tennyu, 3 departments" if cohort_name == SURVEY_COHORT else "tennyu, all"
        for policy, result in results.items():
            grouped = measures.by_hour((v.visit.arrival_min, v.stay_min) for v in measures.visits(result)
                                       if v.outcome == "done" and v.stay_min is not None and cohort(v))
            hours = sorted(grouped)
            ax.plot(hours, [measures.mean(grouped[h]) for h in hours], style, color=COLOURS[policy],
                    label=f"{policy}: {label}", markersize=3)
    ax.axhline(CITY_STATIC_MIN, color="grey", linestyle=":", linewidth=0.8)
    ax.axhline(CITY_TARGET_MIN, color="grey", linestyle="-.", linewidth=0.8)
    ax.text(8.1, CITY_STATIC_MIN + 2, "city survey 129 min", fontsize=7, color="grey")
    ax.text(8.1, CITY_TARGET_MIN + 2, "city target 79 min", fontsize=7, color="grey")
    ax.set_xlabel("hour of arrival")
    ax.set_ylabel("stay, arrival to leaving (min)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def stay_split(results: Mapping[PolicyName, RunResult], path: Path) -> Path:
    """Stacked bars: where the survey visit's time goes, per policy."""
    plt = _pyplot()
    cohort = measures.COHORTS[SURVEY_COHORT]
    parts = ("forms", "wait", "walk", "handling")
    labels = {"forms": "forms by hand / kiosk", "wait": "waiting", "walk": "walking", "handling": "handling"}
    colours = {"forms": "#fdb863", "wait": "#b2abd2", "walk": "#80cdc1", "handling": "#5e3c99"}
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    policies = list(results)
    for index, policy in enumerate(policies):
        split = measures.split(results[policy], cohort)
        bottom = 0.0
        for part in parts:
            value = getattr(split, part)
            ax.bar(index, value, bottom=bottom, color=colours[part], label=labels[part] if index == 0 else None)
            if value >= 4:
                ax.text(index, bottom + value / 2, f"{value:.0f}", ha="center", va="center", fontsize=8)
            bottom += value
        ax.text(index, bottom + 2, f"{bottom:.0f} min", ha="center", fontsize=8)
    ax.axhline(CITY_STATIC_MIN, color="grey", linestyle=":", linewidth=0.8)
    ax.axhline(CITY_TARGET_MIN, color="grey", linestyle="-.", linewidth=0.8)
    ax.set_xticks(range(len(policies)), policies)
    ax.set_ylabel("mean minutes (tennyu, 3 departments)")
    ax.legend(fontsize=7, loc="upper left", ncols=2)
    ax.set_ylim(0, max(CITY_STATIC_MIN, max(measures.split(r, cohort).stay for r in results.values())) * 1.4)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def accuracy_bars(result: RunResult, path: Path) -> Path:
    """MAE of the project's estimator and of each baseline, by hour of issue."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    tickets = [t for t in measures.tickets(result) if t.wait_min is not None and t.estimate is not None]
    colours = ("#1b7837", "#2166ac", "#d6604d", "#878787", "#b35806")
    for name, colour in zip(measures.PREDICTORS, colours, strict=True):
        grouped = measures.by_hour(
            (t.issued_min, abs(t.wait_min - (t.estimate.minutes if name == "project" else t.baselines[name])))
            for t in tickets if t.wait_min is not None and t.estimate is not None)
        hours = sorted(grouped)
        ax.plot(hours, [measures.mean(grouped[h]) for h in hours], "-o", color=colour, label=name, markersize=3)
    ax.set_xlabel("hour of issue")
    ax.set_ylabel("mean absolute error (min)")
    ax.set_title(f"wait estimates, {result.policy} policy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def all_plots(results: Mapping[PolicyName, RunResult], targets: Mapping[str, float], out: Path,
              prefix: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [wait_by_hour(results, targets, out / f"{prefix}-wait-by-hour.png"),
             stay_by_hour(results, out / f"{prefix}-stay-by-hour.png"),
             stay_split(results, out / f"{prefix}-stay-split.png")]
    measured = [r for r in results.values() if any(t.estimate is not None for t in measures.tickets(r))]
    project = results.get("guided") or results.get("balanced")
    if project is not None and project in measured:
        paths.append(accuracy_bars(project, out / f"{prefix}-estimate-error.png"))
    return paths
