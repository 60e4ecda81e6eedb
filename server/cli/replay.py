"""`madoguchi replay`: a site's own day from its database, replayed under another policy or staffing.

Wires ``storage.day_export`` (plain rows, read-only) to ``simulate.replay`` (which never touches
storage). Example: what would one more one-stop counter from 10:00 have done on 2026-03-30?

    madoguchi replay --site chuo --day 2026-03-30 --policy balanced --add-counter onestop@10:00
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

ARMS = ("today", "kakanai", "fifo", "balanced", "guided")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay a day of the site's database under another policy, counter plan or staffing",
        description="Reads one service day's visits from the site's database (ticket times, plans, handling "
                    "times; no personal data) and replays the same residents in the simulator. The first "
                    "policy given is compared with the day as it happened.")
    parser.add_argument("--site", default="chuo", help="site id (config/sites/SITE.toml)")
    parser.add_argument("--day", required=True, type=dt.date.fromisoformat, help="service day, YYYY-MM-DD")
    parser.add_argument("--data-dir", type=Path, default=Path("/var/lib/madoguchi"), help="the server's data folder")
    parser.add_argument("--db", type=Path, default=None, help="the database file (default: in --data-dir)")
    parser.add_argument("--config-dir", type=Path, default=None, help="a city's own configuration directory")
    parser.add_argument("--policy", action="append", choices=ARMS, default=None,
                        help="an arm of the simulation ladder (repeatable; default: balanced)")
    parser.add_argument("--add-counter", action="append", default=[], metavar="BAND@HH:MM",
                        help="one more counter serving BAND from HH:MM, e.g. onestop@10:00 (repeatable)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from madoguchi.common.cli import CommandError
    from madoguchi.server.config.loading import load
    from madoguchi.server.config.schema import ConfigError, default_config_dir
    from madoguchi.server.simulate import measures, replay
    from madoguchi.server.simulate.report import fmt, table
    from madoguchi.server.storage.database import database_path
    from madoguchi.server.storage.day_export import read_day

    try:
        site = load(args.config_dir or default_config_dir(), args.site)
        extra = [replay.ExtraCounter.parse(text) for text in args.add_counter]
    except ConfigError as exc:
        raise CommandError("; ".join(exc.problems)) from None
    except ValueError as exc:
        raise CommandError(f"--add-counter {exc}") from None
    bands = {b.id for b in site.rules.bands}
    unknown = sorted({e.band for e in extra} - bands)
    if unknown:
        known = ", ".join(sorted(bands))
        raise CommandError(f"--add-counter: no band {', '.join(unknown)} at {args.site} (bands: {known})")
    database = args.db or database_path(args.data_dir, args.site)
    try:
        rows = read_day(database, site.rules.id, args.day)
    except FileNotFoundError:
        raise CommandError(f"no database at {database}") from None
    if not rows:
        raise CommandError(f"no visits at {args.site} on {args.day.isoformat()} in {database}")
    policies = args.policy or ["balanced"]
    results = replay.replay(site.rules, site.catalog, rows, args.day, policies, extra)
    recorded = replay.recorded_waits(rows)
    lines = [["as it happened", str(len(rows)), fmt(measures.mean(recorded)), fmt(measures.quantile(recorded, 0.9)),
              "–", "–"]]
    for result in results:
        waits = replay.first_waits(result.day)
        stays = [v.stay_min for v in result.day.visits if v.outcome != "no_show" and v.stay_min is not None]
        unserved = sum(1 for v in result.day.visits if v.outcome == "open")
        lines.append([result.policy, str(len(result.day.visits)), fmt(measures.mean(waits)),
                      fmt(measures.quantile(waits, 0.9)), fmt(measures.mean(stays)), str(unserved)])
    added = ", ".join(f"{e.band} from {e.opens.strftime('%H:%M')}" for e in extra) or "none"
    print(f"{args.site} {args.day.isoformat()}: {len(rows)} visits; counters added: {added}")
    print(table(["replay", "visits", "mean wait until first call (min)", "p90 wait", "mean stay", "unserved at close"],
                lines))
    first = results[0]
    if not extra:
        waits = replay.first_waits(first.day)
        if len(waits) == len(recorded):
            gap = measures.mean(abs(a - b) for a, b in zip(waits, recorded, strict=True))
            print(f"{first.policy} against the day as it happened: mean |difference| of the first waits "
                  f"{gap:.2f} min per visit")
    return 0
