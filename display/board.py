"""What the board shows, as plain data: built from the retained state and the calls, no pygame.

``Board`` takes the messages (``StatePayload``, ``CallPayload``, the server's status, the broker
connection) with the monotonic time they arrived, and ``Board.view(now)`` answers what a resident
should see at that moment: the call highlighted in the large area, the last call per counter, the
bands' waits, and whether the board can be trusted at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from madoguchi.common.i18n import message
from madoguchi.common.protocol import BandPayload, CallPayload, StatePayload

KEEP_CALLS = 60
"""Calls remembered for the list (more than any board has rows)."""


@dataclass(frozen=True)
class BandView:
    id: str
    label: dict[str, str]
    waiting: int
    low: int
    high: int
    minutes: int

    def label_in(self, language: str) -> str:
        return self.label.get(language) or self.label.get("ja") or self.id

    def wait_text(self, language: str, current: bool) -> str:
        """「15〜25分」, 「まもなくお呼びします」, 「お待ちの方はいません」; no figure when it is not current."""
        if self.waiting == 0:
            return message("display", "nobody_waiting", language)
        if not current:
            return message("display", "estimate_not_current", language)
        if self.high <= 1:
            return message("display", "wait_soon", language)
        if self.low >= self.high:
            return message("display", "wait_minutes", language, minutes=self.high)
        return message("display", "wait_range", language, low=max(self.low, 1), high=self.high)

    def waiting_text(self, language: str) -> str:
        return message("display", "waiting_people", language, n=self.waiting)


@dataclass(frozen=True)
class CallView:
    seq: int
    number: str
    counter: str
    counter_label: dict[str, str]
    recall: bool

    def counter_in(self, language: str) -> str:
        return self.counter_label.get(language) or self.counter_label.get("ja") or self.counter

    @classmethod
    def of(cls, call: CallPayload) -> CallView:
        return cls(call.seq, call.display_number, call.counter, dict(call.counter_label), call.recall)


@dataclass(frozen=True)
class BoardView:
    """One frame's content (without the clock and the language, which the renderer adds)."""

    main: CallView | None
    highlighted: bool
    recent: tuple[CallView, ...]
    bands: tuple[BandView, ...]
    trusted: bool
    state_seq: int | None


class Board:
    """The board's content, changed only by messages; ``version`` goes up on every change."""

    def __init__(self, highlight_s: float, stale_after_s: float) -> None:
        self.highlight_s = highlight_s
        self.stale_after_s = stale_after_s
        self.version = 0
        self._calls: dict[int, CallView] = {}
        self._bands: tuple[BandView, ...] = ()
        self._state_seq: int | None = None
        self._state_at: float | None = None
        self._newest_call_at: float | None = None
        self.connected = False
        self.server_online: bool | None = None

    def apply_state(self, state: StatePayload, now: float) -> None:
        """Replace bands and the recent calls by the (complete) state; live calls newer than it stay."""
        newest = max(self._calls, default=0)
        keep = {seq: c for seq, c in self._calls.items() if seq > state.seq}
        listed = {c.seq: CallView.of(c) for c in state.recent_calls}
        self._calls = _trim({**listed, **keep})
        self._bands = tuple(_band(b) for b in state.bands)
        self._state_seq, self._state_at = state.seq, now
        if max(self._calls, default=0) > newest:
            # a call first seen through a state (e.g. one made while we were away) is shown, not highlighted
            self._newest_call_at = None
        self.version += 1

    def apply_call(self, call: CallPayload, now: float) -> None:
        """A new call (already checked with SeenCalls): it takes the large area, highlighted."""
        self._calls = _trim({**self._calls, call.seq: CallView.of(call)})
        if call.seq >= max(self._calls):
            self._newest_call_at = now
        self.version += 1

    def set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.version += 1

    def set_server_online(self, online: bool) -> None:
        if online != self.server_online:
            self.server_online = online
            self.version += 1

    def trusted(self, now: float) -> bool:
        """Live and recent: connected, the server not known to be gone, a state within ``stale_after_s``."""
        return (self.connected and self.server_online is not False and self._state_at is not None
                and now - self._state_at <= self.stale_after_s)

    def highlighted(self, now: float) -> bool:
        return self._newest_call_at is not None and now - self._newest_call_at < self.highlight_s

    @property
    def state_seq(self) -> int | None:
        return self._state_seq

    def view(self, now: float, rows: int = 12) -> BoardView:
        ordered = sorted(self._calls.values(), key=lambda c: c.seq, reverse=True)
        main = ordered[0] if ordered else None
        trusted = self.trusted(now)
        # "Calling" is only said of a live board: an untrusted one shows its last call plainly
        highlighted = main is not None and trusted and self.highlighted(now)
        per_counter: dict[str, CallView] = {}
        for call in ordered[1:] if highlighted else ordered:
            per_counter.setdefault(call.counter, call)
        recent = tuple(per_counter.values())[:rows]
        return BoardView(main, highlighted, recent, self._bands, trusted, self._state_seq)


def _band(band: BandPayload) -> BandView:
    e = band.estimate
    return BandView(band.id, dict(band.label), band.waiting, e.low, e.high, e.minutes)


def _trim(calls: dict[int, CallView]) -> dict[int, CallView]:
    if len(calls) <= KEEP_CALLS:
        return calls
    return {seq: calls[seq] for seq in sorted(calls)[-KEEP_CALLS:]}
