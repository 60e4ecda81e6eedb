"""Building blocks for tests: the shipped configuration, an office on a fixed clock, requests."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

from madoguchi.server.config.loading import LoadedSite, load
from madoguchi.server.config.schema import default_config_dir
from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.office import Office

TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY_9AM = dt.datetime(2026, 12, 7, 9, 0, tzinfo=TOKYO)


class CountingIds:
    """Deterministic ticket ids and tokens."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def ticket_id(self) -> str:
        return f"t{next(self._n):05d}"

    def token(self) -> str:
        return f"tok{next(self._n):05d}"


def chuo() -> LoadedSite:
    return load(default_config_dir(), "chuo")


def office(site_id: str = "chuo", **kwargs: object) -> Office:
    loaded = load(default_config_dir(), site_id)
    return Office(loaded.rules, loaded.catalog, CountingIds(), **kwargs)  # type: ignore[arg-type]


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


TENNYU_FAMILY = IssueRequest(
    life_event="tennyu",
    answers={"household": [{"age": 40, "relation": "self"}, {"age": 8, "relation": "child"},
                           {"age": 70, "relation": "parent"}]},
)
JUMINHYO = IssueRequest(procedures=("juminhyo",))
OKUYAMI = IssueRequest(life_event="okuyami", answers={"deceased_age": "from_75", "deceased_pension": True})


def config_with_band_ranges(root: Path, ranges: dict[str, tuple[int, int]], site: str = "chuo") -> Path:
    """A copy of the shipped configuration in ``root/config`` whose site has other band ranges."""
    config = root / "config"
    if not config.exists():
        shutil.copytree(default_config_dir(), config, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        path = config / "sites" / f"{site}.toml"
        text = path.read_text(encoding="utf-8")
        for band, (lo, hi) in ranges.items():
            text = re.sub(rf'(id = "{band}"\n(?:.*\n)*?range = )\[\d+, \d+\]', rf"\g<1>[{lo}, {hi}]", text, count=1)
        path.write_text(text, encoding="utf-8")
    return config
