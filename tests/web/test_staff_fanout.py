"""The staff pages' fan-out: every subscriber gets each commit's notice with its seq; a slow one is bounded
and told to resync; the writer thread never waits for a reader."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

from madoguchi.server.core.events import Event, EventKind
from madoguchi.server.mqtt.port import Commit, SequencedEvent
from madoguchi.server.service.fanout import BUFFER, Fanout

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


def commit(seq: int) -> Commit:
    event = Event(EventKind.CALLED, NOW, ticket_id=f"t{seq}", counter_id="c4", band="onestop", number=seq)
    return Commit((SequencedEvent(seq, event),), ())


def test_notices_reach_every_subscriber_in_order_and_a_slow_one_is_bounded():
    async def scenario() -> None:
        fanout = Fanout()
        fast, slow = fanout.subscribe(), fanout.subscribe()
        writer = threading.Thread(target=lambda: [fanout.changed(commit(n)) for n in range(1, 4)])
        writer.start()
        writer.join(5)
        await asyncio.wait_for(fast.wake.wait(), 1)
        notices, lost = fast.take()
        assert [n.seq for n in notices] == [1, 2, 3] and not lost
        assert notices[0].kinds == ("called",) and notices[0].counters == ("c4",)

        started = time.monotonic()
        for n in range(4, 4 + BUFFER * 50):  # nobody reads `slow`: the writer goes on regardless
            fanout.changed(commit(n))
        assert time.monotonic() - started < 2.0
        notices, lost = slow.take()
        assert lost and len(notices) == BUFFER  # bounded; told to read everything again
        assert notices[-1].seq == 3 + BUFFER * 50

        fanout.unsubscribe(fast)
        fanout.unsubscribe(slow)
        assert fanout.count == 0
        fanout.changed(Commit((), ()))  # a commit without events notifies nobody

    asyncio.run(scenario())
