"""A burst at the kiosks between two projections: the band's estimate on the displays grows with it, and
it tells what the next newcomer is told."""

from __future__ import annotations

import datetime as dt

from madoguchi.server.core.issuing import IssueRequest
from madoguchi.server.core.snapshot import snapshot
from tests.factories import MONDAY_9AM, office


def test_forty_tickets_issued_within_a_second_lengthen_the_band_estimate_at_once():
    o = office()
    quiet = {b.id: b.estimate.minutes for b in snapshot(o, MONDAY_9AM).bands}
    assert quiet["simple"] < 1, "an empty office, open counters: no wait"
    burst = [o.issue(IssueRequest(procedures=("juminhyo",)), MONDAY_9AM + dt.timedelta(milliseconds=20 * i))
             for i in range(40)]
    now = MONDAY_9AM + dt.timedelta(seconds=1)  # before the next projection (estimates.REFRESH_AFTER_S)
    band = next(b for b in snapshot(o, now).bands if b.id == "simple")
    last = o.estimate(burst[-1], now)
    assert band.waiting == 40
    assert band.estimate.minutes > 10, f"40 waiting for 3 counters shown as {band.estimate.minutes:.1f} min"
    # the band's figure is what a newcomer would be told: a little above the last one issued
    assert last.minutes <= band.estimate.minutes <= last.minutes + 10, (band.estimate, last)
