"""A one-band site with identical counters and exponential handling: textbook queues to check against."""

from __future__ import annotations

import datetime as dt
import math

from madoguchi.server.core.catalog import Band, Catalog, Procedure
from madoguchi.server.core.site import CounterSpec, SiteRules
from madoguchi.server.simulate.scenario import Scenario

OPENS, CLOSES = dt.time(2, 0), dt.time(20, 0)


def queue_site(servers: int, mean_service_min: float) -> tuple[SiteRules, Catalog]:
    band = Band("q", {"ja": "待ち行列"}, 1, 9999, 30.0)
    counters = tuple(CounterSpec(f"s{i}", {"ja": f"{i}番"}, "dept", ("q",)) for i in range(1, servers + 1))
    site = SiteRules("queue", {"ja": "待ち行列"}, (band,), counters, opens_at=OPENS, closes_at=CLOSES)
    procedure = Procedure("p", {"ja": "手続"}, "q", "dept", mean_service_min)
    return site, Catalog({"p": procedure}, {}, {}, {"dept": {"ja": "課"}})


def poisson_scenario(arrivals_per_min: float) -> Scenario:
    """Poisson arrivals at a constant rate, exponential handling, nobody leaves, no breaks."""
    open_min = (CLOSES.hour - OPENS.hour) * 60
    return Scenario.model_validate({
        "name": "textbook", "description": "M/M/s", "site": "queue", "first_day": dt.date(2026, 6, 8),
        "hourly_profile": {str(h): 1.0 for h in range(24)},
        "streams": [{"id": "p", "procedures": ["p"], "per_day": arrivals_per_min * open_min}],
        "handling": {"distribution": "exponential"},
        "resident": {"kiosk_min": 0, "kiosk_simple_min": 0, "walk_to_counter_min": 0},
        "staff": {"lunch_min": 0},
        "serve_until": "23:59:00",
    })


def erlang_c_wait(servers: int, arrivals_per_min: float, mean_service_min: float) -> float:
    """Mean wait in queue of M/M/s (Erlang C)."""
    offered = arrivals_per_min * mean_service_min
    rho = offered / servers
    below = sum(offered**k / math.factorial(k) for k in range(servers))
    top = offered**servers / math.factorial(servers) / (1 - rho)
    waiting_probability = top / (below + top)
    return waiting_probability * mean_service_min / (servers - offered)
