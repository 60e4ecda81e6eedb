"""The simple wait predictors the project's estimator is measured against.

- QL (Ibrahim & Whitt 2009, "queue length"): (n+1)/(s·μ) — n visits ahead, s open counters that
  can serve the visit, 1/μ the mean time a counter is taken per call in this queue so far.
- LES ("last to enter service"): the wait of the last visit called from the same queue.
- ZMS-style (what many ticket systems display): n × average handling of the whole office so far
  ÷ open counters.
- HOUR ("band, last hour"): the mean wait of the band's visits called in the last 60 minutes —
  what a manager reads off a dashboard.

A "queue" is the set of counters that can serve the visit's current step. The statistics are
learned from the simulated log as a real system would, from the first day on (priors from the
catalog until then).
"""

from __future__ import annotations

from dataclasses import dataclass, field

QueueKey = tuple[str, ...]
HOUR_MIN = 60.0


@dataclass
class RunningMean:
    n: int = 0
    mean: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        self.mean += (value - self.mean) / self.n


@dataclass
class Baselines:
    prior_occupancy_min: float = 15.0
    occupancy: dict[QueueKey, RunningMean] = field(default_factory=dict)
    overall: RunningMean = field(default_factory=RunningMean)
    last_wait: dict[QueueKey, float] = field(default_factory=dict)
    band_calls: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (called at, waited)

    def on_call(self, queue: QueueKey, waited_min: float, band: str = "", at_min: float = 0.0) -> None:
        self.last_wait[queue] = waited_min
        calls = self.band_calls.setdefault(band, [])
        calls.append((at_min, waited_min))
        while calls and calls[0][0] < at_min - HOUR_MIN:
            calls.pop(0)

    def band_hour(self, band: str, at_min: float) -> float:
        recent = [w for t, w in self.band_calls.get(band, []) if t >= at_min - HOUR_MIN]
        return sum(recent) / len(recent) if recent else 0.0

    def on_release(self, queue: QueueKey, occupied_min: float) -> None:
        self.occupancy.setdefault(queue, RunningMean()).add(occupied_min)
        self.overall.add(occupied_min)

    def _overall_mean(self) -> float:
        return self.overall.mean if self.overall.n else self.prior_occupancy_min

    def _queue_mean(self, queue: QueueKey) -> float:
        stats = self.occupancy.get(queue)
        return stats.mean if stats and stats.n >= 3 else self._overall_mean()

    def predict(self, queue: QueueKey, ahead: int, open_servers: int, free_servers: int, band: str = "",
                at_min: float = 0.0) -> dict[str, float]:
        servers = max(open_servers, 1)
        ql = 0.0 if free_servers > ahead else (ahead + 1) * self._queue_mean(queue) / servers
        return {
            "QL": ql,
            "LES": self.last_wait.get(queue, 0.0),
            "ZMS": ahead * self._overall_mean() / servers,
            "HOUR": self.band_hour(band, at_min),
        }
