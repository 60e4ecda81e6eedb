"""Measures shared by the live reports and the simulator: percentiles and the accuracy of estimates.

One definition each, so a KPI read off a site's database and one read off a simulated day mean the
same thing (DESIGN §3 "Wait estimate", §9).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

UNDERESTIMATE_MIN = 5.0
"""An estimate counts as an underestimate when the real wait exceeds it by more than this."""


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    lo = math.floor(position)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)


@dataclass(frozen=True)
class Accuracy:
    """How well published estimates matched the waits that followed."""

    n: int
    mae: float
    """Mean absolute error, minutes."""
    under_share: float
    """Share of waits more than ``UNDERESTIMATE_MIN`` above the estimate."""
    coverage: float
    """Share of waits inside the published interval (NaN when no interval was given)."""


def accuracy(pairs: Iterable[tuple[float, float, tuple[float, float] | None]]) -> Accuracy:
    """Accuracy of (estimate, actual wait, interval or None) triples; NaN measures when there are none."""
    n = under = inside = with_interval = 0
    total_error = 0.0
    for predicted, actual, interval in pairs:
        n += 1
        total_error += abs(actual - predicted)
        under += actual - predicted > UNDERESTIMATE_MIN
        if interval is not None:
            with_interval += 1
            inside += interval[0] - 1e-9 <= actual <= interval[1] + 1e-9
    if not n:
        return Accuracy(0, math.nan, math.nan, math.nan)
    return Accuracy(n, total_error / n, under / n, inside / with_interval if with_interval else math.nan)
