"""The recent calls displays show, with the event sequence number of each (for deduplication)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Sequence

from madoguchi.common.protocol import CallPayload
from madoguchi.server.core.events import EventKind
from madoguchi.server.core.office import Office
from madoguchi.server.mqtt.port import SequencedEvent
from madoguchi.server.storage.office_store import OfficeStore

RECENT_CALLS = 8
CALL_KINDS = (EventKind.CALLED, EventKind.RECALLED)


class CallLog:
    def __init__(self, site: str) -> None:
        self.site = site
        self._recent: deque[CallPayload] = deque(maxlen=RECENT_CALLS)
        self._lock = threading.Lock()  # the writer thread adds while request threads read

    def recent(self) -> list[CallPayload]:
        with self._lock:
            return list(self._recent)

    def payloads(self, office: Office, events: Sequence[SequencedEvent]) -> list[CallPayload]:
        """The calls among freshly committed ``events``, each with the seq of its own log row."""
        return [
            self._payload(office, s.seq, s.event.at, s.event.number, s.event.band or "", s.event.counter_id,
                          s.event.kind is EventKind.RECALLED)
            for s in events
            if s.event.kind in CALL_KINDS and s.event.counter_id is not None and s.event.number is not None
        ]

    def remember(self, calls: Sequence[CallPayload]) -> None:
        with self._lock:
            for call in calls:
                self._recent.appendleft(call)

    def _payload(self, office: Office, seq: int, at: dt.datetime, number: int, band: str, counter_id: str,
                 recall: bool) -> CallPayload:
        counter = office.counters.get(counter_id)
        band_rule = office.bands.get(band)
        return CallPayload(
            seq=seq, site=self.site, number=number,
            display_number=band_rule.display_number(number) if band_rule else str(number),
            counter=counter_id, counter_label=dict(counter.label) if counter else {"ja": counter_id},
            band=band, recall=recall, at=at,
        )

    def load(self, store: OfficeStore, office: Office) -> None:
        """Rebuild after a restart from today's call events."""
        if office.day is None:
            return
        rows = store.latest_events(CALL_KINDS, office.day, RECENT_CALLS)
        self.remember([self._payload(office, seq, dt.datetime.fromisoformat(at), number, band, counter_id,
                                     kind == EventKind.RECALLED.value) for seq, at, number, band, counter_id, kind
                       in reversed(rows)])
