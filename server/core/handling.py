"""What the estimate learns from the log: handling times, and the counters' usual breaks.

Handling times per procedure and hour of day: the mean and spread of the minutes themselves (not of
their logarithms: the mean of a lognormal fitted by log-moments is biased when times are not
lognormal, by +28% on exponential ones). A robust mean: each observation is first clipped to the
current mean plus ``CLIP_SD`` standard deviations, so a step left open over lunch moves the mean
little. With few observations the estimate stays near the catalog's prior minutes; as
observations accumulate it follows them (two levels: the procedure over the whole day, then the
procedure in that hour). Breaks: see ``CounterBreaks``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

PRIOR_CV = 0.6  # coefficient of variation assumed before any observation
PRIOR_WEIGHT = 8.0  # observations the prior is worth
MIN_MINUTES = 0.5
CLIP_SD = 4.0  # an observation counts at most this many standard deviations above the mean
CLIP_AFTER = 10  # … once this many observations give a mean and a spread to clip by


@dataclass
class MinuteStats:
    """Running mean and variance of minutes (Welford), observations clipped above (robust)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, value: float) -> None:
        if self.n >= CLIP_AFTER:
            value = min(value, self.mean + CLIP_SD * math.sqrt(self.variance))
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)

    @property
    def variance(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0


def _shrink(stats: MinuteStats | None, mean: float, var: float, weight: float) -> tuple[float, float]:
    """Mean and variance of minutes, the observations weighed against a prior worth ``weight`` of them."""
    if stats is None or stats.n == 0:
        return mean, var
    n = stats.n
    post_mean = (n * stats.mean + weight * mean) / (n + weight)
    post_var = ((n - 1) * stats.variance + weight * var) / (n - 1 + weight) if n > 1 else var
    return post_mean, post_var


class HandlingTimes:
    def __init__(self, priors_min: Mapping[str, float], prior_cv: float = PRIOR_CV,
                 prior_weight: float = PRIOR_WEIGHT) -> None:
        self._priors = dict(priors_min)
        self._prior_cv = prior_cv
        self._weight = prior_weight
        self._by_procedure: dict[str, MinuteStats] = {}
        self._by_hour: dict[tuple[str, int], MinuteStats] = {}
        self._cache: dict[tuple[str, int], tuple[float, float]] = {}

    def observe(self, procedure: str, hour: int, minutes: float) -> None:
        value = max(minutes, MIN_MINUTES)
        self._by_procedure.setdefault(procedure, MinuteStats()).add(value)
        self._by_hour.setdefault((procedure, hour), MinuteStats()).add(value)
        self._cache = {k: v for k, v in self._cache.items() if k[0] != procedure}

    def _params(self, procedure: str, hour: int) -> tuple[float, float]:
        cached = self._cache.get((procedure, hour))
        if cached is not None:
            return cached
        prior = self._priors.get(procedure, 10.0)
        mean1, var1 = _shrink(self._by_procedure.get(procedure), prior, (self._prior_cv * prior) ** 2, self._weight)
        params = _shrink(self._by_hour.get((procedure, hour)), mean1, var1, self._weight)
        self._cache[(procedure, hour)] = params
        return params

    def mean(self, procedure: str, hour: int) -> float:
        """Expected minutes of one step of ``procedure`` started in ``hour``."""
        return max(self._params(procedure, hour)[0], MIN_MINUTES)

    def cv(self, procedure: str, hour: int) -> float:
        mean, var = self._params(procedure, hour)
        return math.sqrt(max(var, 0.0)) / max(mean, MIN_MINUTES)

    def observations(self, procedure: str) -> int:
        stats = self._by_procedure.get(procedure)
        return stats.n if stats else 0


BREAK_HISTORY_DAYS = 5  # the days a counter's usual break is learned from
MAX_BREAK_MIN = 180.0  # a longer pause is not a break (closing, staff shortage)
SAME_BREAK_MIN = 60.0  # a break today this close to the usual start is the usual break


@dataclass(frozen=True)
class Break:
    day: dt.date
    start_min: float  # minutes after midnight
    length_min: float


class CounterBreaks:
    """When counters usually pause (lunch rotation) and for how long, learned from their state changes.

    The estimate needs it twice: a paused counter comes back after its usual break, and an open
    counter that has not yet had its usual break today will leave for it.
    """

    def __init__(self) -> None:
        self._since: dict[str, dt.datetime] = {}
        self._history: dict[str, list[Break]] = {}
        self._usual_cache: dict[tuple[str, dt.date], Break | None] = {}

    def observe(self, counter_id: str, paused: bool, now: dt.datetime) -> None:
        """A counter paused (``paused``) or opened again at ``now``."""
        self._usual_cache.clear()
        if paused:
            self._since.setdefault(counter_id, now)
            return
        since = self._since.pop(counter_id, None)
        if since is None or since.date() != now.date():
            return
        length = (now - since).total_seconds() / 60
        if 0 < length <= MAX_BREAK_MIN:
            history = self._history.setdefault(counter_id, [])
            history.append(Break(since.date(), since.hour * 60 + since.minute + since.second / 60, length))
            days = sorted({b.day for b in history})[-BREAK_HISTORY_DAYS:]
            self._history[counter_id] = [b for b in history if b.day >= days[0]]

    def _usual(self, counter_id: str, today: dt.date) -> Break | None:
        key = (counter_id, today)
        if key not in self._usual_cache:
            self._usual_cache[key] = self._learn_usual(counter_id, today)
        return self._usual_cache[key]

    def _learn_usual(self, counter_id: str, today: dt.date) -> Break | None:
        past = [b for b in self._history.get(counter_id, []) if b.day < today]
        days = {b.day for b in past}
        if not days:
            return None
        first = [min((b for b in past if b.day == day), key=lambda b: b.start_min) for day in days]
        if len(first) * 2 < min(len(days), BREAK_HISTORY_DAYS):
            return None
        return Break(today, _median([b.start_min for b in first]), _median([b.length_min for b in first]))

    def paused_until(self, counter_id: str, now: dt.datetime) -> dt.datetime | None:
        """When a paused counter is expected back; None when unknown (no break learned yet)."""
        since = self._since.get(counter_id)
        usual = self._usual(counter_id, now.date())
        if since is None or usual is None:
            return None
        back = since + dt.timedelta(minutes=usual.length_min)
        return back if back > now else now + dt.timedelta(minutes=1)

    def upcoming(self, counter_id: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        """The usual break still ahead today for an open counter, as (from, to)."""
        usual = self._usual(counter_id, now.date())
        if usual is None:
            return None
        taken_today = any(b.day == now.date() and abs(b.start_min - usual.start_min) < SAME_BREAK_MIN
                          for b in self._history.get(counter_id, []))
        if taken_today:
            return None
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight + dt.timedelta(minutes=usual.start_min)
        end = start + dt.timedelta(minutes=usual.length_min)
        return (start, end) if end > now else None


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
