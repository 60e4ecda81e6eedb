"""`make bench`: runs every tests/bench/bench_*.py and writes docs/benchmarks.md.

Each bench module has ``run() -> str`` returning a markdown section (tables, with the command and
the baseline measured in the same run). Sections appear in module-name order.
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    only = set(argv)
    modules = sorted(p.stem for p in (ROOT / "tests" / "bench").glob("bench_*.py"))
    sections = []
    for name in modules:
        if only and name not in only:
            continue
        print(f"bench: {name} …", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"tests.bench.{name}")
        sections.append(module.run().strip())
        print(f"bench: {name} done in {time.perf_counter() - started:.1f} s", flush=True)
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {datetime.date.today().isoformat()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Load clients run on the same machine as the server. Ratios compare against a baseline "
        "measured in the same run.\n"
    )
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text(header + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"bench: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
