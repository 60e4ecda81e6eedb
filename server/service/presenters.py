"""Core objects turned into the shapes of the edges (REST and MQTT): one place for each."""

from __future__ import annotations

import math

from madoguchi.common.protocol import BandPayload, CallPayload, CounterPayload, EstimatePayload, StatePayload
from madoguchi.server.core.estimator import Estimate
from madoguchi.server.core.snapshot import OfficeState


def estimate_payload(estimate: Estimate) -> EstimatePayload:
    """Whole minutes: the interval rounded outwards, so it never looks narrower than it is."""
    return EstimatePayload(minutes=round(estimate.minutes), low=math.floor(estimate.low),
                           high=math.ceil(estimate.high))


def state_payload(state: OfficeState, seq: int, recent_calls: list[CallPayload]) -> StatePayload:
    return StatePayload(
        seq=seq, site=state.site, at=state.at,
        bands=[BandPayload(id=b.id, label=dict(b.label), waiting=b.waiting, estimate=estimate_payload(b.estimate),
                           target_wait_min=b.target_wait_min, last_called=b.last_called) for b in state.bands],
        counters=[CounterPayload(id=c.id, label=dict(c.label), state=c.state,  # type: ignore[arg-type]
                                 serving=c.serving, skills=list(c.skills)) for c in state.counters],
        recent_calls=recent_calls,
    )
