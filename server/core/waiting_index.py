"""Waiting visits grouped by (band, procedure, counter sent to), each group kept sorted by the policy's order.

The balancing policy only ever calls the first visit of some group (FIFO within a band), so a
counter needs to look at one head per group instead of every waiting visit; a visit's position
is a few binary searches. Both stay fast with thousands waiting.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterator

from .policy import Candidate

Key = tuple[object, ...]
Group = tuple[str, str, str | None]


class WaitingIndex:
    def __init__(self, key: Callable[[Candidate], Key]) -> None:
        self._key = key
        self._groups: dict[Group, list[tuple[Key, str]]] = {}
        self._where: dict[str, tuple[Group, Key, Candidate]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def add(self, candidate: Candidate) -> None:
        self.remove(candidate.ticket_id)
        group = (candidate.band, candidate.procedure, candidate.sent_to)
        key = self._key(candidate)
        bisect.insort(self._groups.setdefault(group, []), (key, candidate.ticket_id))
        self._where[candidate.ticket_id] = (group, key, candidate)

    def remove(self, ticket_id: str) -> None:
        found = self._where.pop(ticket_id, None)
        if found is None:
            return
        group, key, _ = found
        entries = self._groups[group]
        del entries[bisect.bisect_left(entries, (key, ticket_id))]
        if not entries:
            del self._groups[group]

    def heads(self) -> list[Candidate]:
        """The first visit of every group: all a policy needs to choose from."""
        return [self._where[entries[0][1]][2] for entries in self._groups.values()]

    def candidates(self) -> Iterator[Candidate]:
        return (candidate for _, _, candidate in self._where.values())

    def ahead(self, ticket_id: str, since: dt.datetime | None = None) -> int:
        """Visits of the same band before this one in the policy's order (only those whose order
        time is ``since`` or later, when given)."""
        _, key, candidate = self._where[ticket_id]
        count = 0
        for (band, _, _), entries in self._groups.items():
            if band != candidate.band:
                continue
            end = bisect.bisect_left(entries, (key, ticket_id))
            start = bisect.bisect_left(entries, ((since,), "")) if since is not None else 0
            count += max(end - start, 0)
        return count
