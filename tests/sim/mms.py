"""Exact answers for an M/M/s queue served first come first served.

- ``fifo_waits``: the waits of given residents (arrival and service minutes) at s identical
  counters, by the Kiefer–Wolfowitz recursion: the exact sample path the simulator must reproduce.
- ``erlang_quantile``: with every counter busy and k visits ahead, the wait of a new visit is the
  time of k + 1 service completions at rate s·μ (memoryless services): Erlang(k + 1, s·μ).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence


def fifo_waits(arrivals: Sequence[float], services: Sequence[float], servers: int) -> list[float]:
    free = [0.0] * servers
    waits = []
    for arrival, service in zip(arrivals, services, strict=True):
        start = max(arrival, heapq.heappop(free))
        waits.append(start - arrival)
        heapq.heappush(free, start + service)
    return waits


def erlang_cdf(x: float, shape: int, rate: float) -> float:
    if x <= 0:
        return 0.0
    term, total = 1.0, 1.0
    for i in range(1, shape):
        term *= rate * x / i
        total += term
    return 1.0 - math.exp(-rate * x) * total


def erlang_quantile(q: float, shape: int, rate: float) -> float:
    low, high = 0.0, (shape + 10 * math.sqrt(shape) + 10) / rate
    for _ in range(80):
        middle = (low + high) / 2
        if erlang_cdf(middle, shape, rate) < q:
            low = middle
        else:
            high = middle
    return (low + high) / 2
