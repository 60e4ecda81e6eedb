"""`make bench`: runs every tests/bench/bench_*.py and writes docs/benchmarks.md.

Each bench module has ``run() -> str`` returning a markdown section (tables, with the command and
the baseline measured in the same run). Sections appear in module-name order. Naming modules
(`python -m tests.bench.run bench_server`) runs only those and keeps the other sections as they were.
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


MARKER = "<!-- section: {} -->"


def previous_sections(path: Path) -> dict[str, str]:
    """The sections of an earlier run, by module name (kept when only some modules run now)."""
    if not path.exists():
        return {}
    found = re.split(r"(?m)^(?=<!-- section: )", path.read_text(encoding="utf-8"))
    sections = {}
    for part in found:
        match = re.match(r"<!-- section: (\w+) -->", part)
        if match:
            sections[match.group(1)] = part.strip()
    return sections


def main(argv: list[str]) -> int:
    only = set(argv)
    modules = sorted(p.stem for p in (ROOT / "tests" / "bench").glob("bench_*.py"))
    out = ROOT / "docs" / "benchmarks.md"
    sections = previous_sections(out)
    for name in modules:
        if only and name not in only:
            continue
        print(f"bench: {name} …", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"tests.bench.{name}")
        sections[name] = f"{MARKER.format(name)}\n{module.run().strip()}"
        print(f"bench: {name} done in {time.perf_counter() - started:.1f} s", flush=True)
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {datetime.date.today().isoformat()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Load clients run on the same machine as the server. Ratios compare against a baseline "
        "measured in the same run.\n"
    )
    ordered = [sections[name] for name in sorted(sections) if name in modules]
    out.write_text(header + "\n" + "\n\n".join(ordered) + "\n", encoding="utf-8")
    print(f"bench: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
