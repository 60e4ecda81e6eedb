"""`madoguchi simulate`: replay office days under a policy and write a report with plots."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

ARM_CHOICES = ("today", "kakanai", "fifo", "balanced", "guided")
POLICY_CHOICES = (*ARM_CHOICES, "both", "ladder")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "simulate", help="simulate office days (real policy and estimator, simulated clock)",
        description="Discrete-event simulation of a site's days with a scenario from config/scenarios/. "
                    "Writes report.md and PNG plots to --out.")
    parser.add_argument("--site", default="chuo", help="site id (config/sites/SITE.toml)")
    parser.add_argument("--scenario", default="ordinary", help="scenario name (config/scenarios/NAME.toml)")
    parser.add_argument("--days", type=int, default=5, help="measured days per seed (after one warm-up day)")
    parser.add_argument("--seed", type=int, default=1, help="first random seed")
    parser.add_argument("--seeds", type=int, default=1, help="number of seeds (independent replications)")
    parser.add_argument("--policy", choices=POLICY_CHOICES, default="guided",
                        help="an arm of the ladder: today (forms by hand, a queue per department), kakanai (no "
                             "forms, same queues), fifo (one ticket, first come first served), balanced (the "
                             "balancing policy), guided (the policy and the floor guide: the project); both = "
                             "guided and today, ladder = every arm, on the same residents")
    parser.add_argument("--config-dir", type=Path, default=None, help="a city's own configuration directory")
    parser.add_argument("--out", type=Path, default=None, help="report directory (default var/simulate/SCENARIO)")
    parser.add_argument("--no-plots", action="store_true", help="tables only")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from madoguchi.common.cli import CommandError
    from madoguchi.server.config.loading import load
    from madoguchi.server.config.schema import ConfigError, default_config_dir
    from madoguchi.server.simulate import measures, report, runner
    from madoguchi.server.simulate.engine import LADDER, POLICIES, PolicyName
    from madoguchi.server.simulate.scenario import load_scenario

    if args.days < 1 or args.seeds < 1:
        raise CommandError("--days and --seeds must be at least 1")
    config_dir = args.config_dir or default_config_dir()
    try:
        site = load(config_dir, args.site)
        scenario = load_scenario(config_dir, args.scenario)
    except ConfigError as exc:
        raise CommandError("; ".join(exc.problems)) from None
    if scenario.site != args.site:
        raise CommandError(f"scenario '{scenario.name}' is written for site '{scenario.site}', not '{args.site}'")
    policies: tuple[PolicyName, ...] = (POLICIES if args.policy == "both" else LADDER if args.policy == "ladder"
                                         else (args.policy,))
    seeds = range(args.seed, args.seed + args.seeds)
    total = len(policies) * args.seeds * (args.days + 1)
    try:
        from tqdm import tqdm
    except ModuleNotFoundError:
        raise CommandError("the simulator needs the 'sim' extra: pip install 'madoguchi[sim]'") from None
    with tqdm(total=total, unit="site-day", desc=f"simulate {scenario.name}", disable=None, file=sys.stderr) as bar:
        results = runner.run(site.rules, site.catalog, scenario, policies, seeds, args.days, progress=bar.update)
    out = args.out or Path("var") / "simulate" / scenario.name
    out.mkdir(parents=True, exist_ok=True)
    targets = {b.id: b.target_wait_min for b in site.rules.bands}
    plots: list[str] = []
    if not args.no_plots:
        from madoguchi.server.simulate.plots import all_plots

        plots = [p.name for p in all_plots(results, targets, out, scenario.name)]
    command = "madoguchi simulate " + shlex.join(sys.argv[2:] if len(sys.argv) > 2 else [])
    text = report.scenario_report(results, targets, command.strip(), plots)
    (out / "report.md").write_text(f"# Simulation of {site.rules.id}\n\n{text}", encoding="utf-8")
    for policy, result in results.items():
        mean, half, _ = report.survey_check(result)
        rate = result.site_days / result.seconds * 60 if result.seconds else 0.0
        every, _ = measures.mean_ci(measures.stays_by_seed(result, measures.every_visit))
        unserved = measures.mean(x for s in measures.unserved_by_seed(result) for x in s)
        print(f"{policy}: all visits {report.fmt(every)} min mean stay, {report.fmt(unserved)} unserved at close "
              f"per day; 転入 across 3 departments {report.fmt(mean)} ± {report.fmt(half)} min; "
              f"{rate:.0f} site-days/min")
    print(f"report: {out / 'report.md'}")
    return 0
