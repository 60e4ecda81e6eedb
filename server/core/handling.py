"""Handling times learned from the log, per procedure and hour of day, shrunk toward the prior.

Times are modelled as lognormal. With few observations the estimate stays near the catalog's
prior minutes; as observations accumulate it follows them (two levels: the procedure over the
whole day, then the procedure in that hour).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

PRIOR_CV = 0.6  # coefficient of variation assumed before any observation
PRIOR_WEIGHT = 8.0  # observations the prior is worth
MIN_MINUTES = 0.5


@dataclass
class LogStats:
    """Running mean and variance of log(minutes) (Welford)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)

    @property
    def variance(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0


def _shrink(stats: LogStats | None, mu: float, var: float, weight: float) -> tuple[float, float]:
    if stats is None or stats.n == 0:
        return mu, var
    n = stats.n
    post_mu = (n * stats.mean + weight * mu) / (n + weight)
    post_var = ((n - 1) * stats.variance + weight * var) / (n - 1 + weight) if n > 1 else var
    return post_mu, post_var


class HandlingTimes:
    def __init__(self, priors_min: Mapping[str, float], prior_cv: float = PRIOR_CV,
                 prior_weight: float = PRIOR_WEIGHT) -> None:
        self._priors = dict(priors_min)
        self._prior_var = math.log(1 + prior_cv**2)
        self._weight = prior_weight
        self._by_procedure: dict[str, LogStats] = {}
        self._by_hour: dict[tuple[str, int], LogStats] = {}
        self._cache: dict[tuple[str, int], tuple[float, float]] = {}

    def observe(self, procedure: str, hour: int, minutes: float) -> None:
        value = math.log(max(minutes, MIN_MINUTES))
        self._by_procedure.setdefault(procedure, LogStats()).add(value)
        self._by_hour.setdefault((procedure, hour), LogStats()).add(value)
        self._cache = {k: v for k, v in self._cache.items() if k[0] != procedure}

    def _log_params(self, procedure: str, hour: int) -> tuple[float, float]:
        cached = self._cache.get((procedure, hour))
        if cached is not None:
            return cached
        prior = self._priors.get(procedure, 10.0)
        mu0 = math.log(prior) - self._prior_var / 2
        mu1, var1 = _shrink(self._by_procedure.get(procedure), mu0, self._prior_var, self._weight)
        params = _shrink(self._by_hour.get((procedure, hour)), mu1, var1, self._weight)
        self._cache[(procedure, hour)] = params
        return params

    def mean(self, procedure: str, hour: int) -> float:
        """Expected minutes of one step of ``procedure`` started in ``hour``."""
        mu, var = self._log_params(procedure, hour)
        return math.exp(mu + var / 2)

    def cv(self, procedure: str, hour: int) -> float:
        _, var = self._log_params(procedure, hour)
        return math.sqrt(math.exp(var) - 1)

    def observations(self, procedure: str) -> int:
        stats = self._by_procedure.get(procedure)
        return stats.n if stats else 0
