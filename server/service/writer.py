"""The single writer: commits the office's changes in the order they were made, several per fsync.

A command is applied to the office in memory under the office lock and its changes are queued, still
under the lock, as plain rows; this thread writes everything queued in one transaction (one fsync) and
only then are the callers answered. Under load, commands arriving during an fsync share the next one
(group commit).

The writer never takes the office lock. Each queued command carries the *generation* of the office it
was applied to. When a write fails, that generation is *poisoned*: every command of it still queued
fails too (its caller hears 503, nothing of it is written), and the office is reloaded from the
database as a new generation. So nobody is ever answered for a change that is not on disk, and
nothing is written on top of a change that was lost. A reload first waits for a *barrier* (``drain``):
everything queued before it has been written or failed, so the office read back misses nothing that
was, or will be, answered as committed.

Erasing card data (a visit ended) makes the checkpointer copy the WAL into the database and truncate
it soon after (DESIGN §8: erased means unreadable from the database *and its WAL*).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from madoguchi.server.core.office import Changes
from madoguchi.server.storage.office_store import Rows, write

log = logging.getLogger(__name__)
MAX_BATCH = 256
CHECKPOINT_EVERY_S = 1.0
TRUNCATE_BUSY_MS = 50
"""How long a truncating checkpoint may wait for readers (it holds up the writer meanwhile); if
readers are still on the WAL, it is tried again a second later."""


class Poisoned(Exception):
    """The office this command was applied to was lost with an earlier command; it was not written."""


@dataclass
class Pending:
    rows: Rows
    changes: Changes
    generation: int
    future: Future[None] = field(default_factory=Future)
    barrier: bool = False
    """Writes nothing: its future completes once everything queued before it is written or failed."""


class Writer:
    def __init__(self, conn: sqlite3.Connection, committed: Callable[[list[Pending], int], None],
                 checkpoint_conn: sqlite3.Connection | None = None) -> None:
        """``committed(batch, last_seq)`` runs on this thread after each successful write.

        With ``checkpoint_conn``, the WAL is copied back into the database by a thread of its own
        (passive checkpoints, which never block the writer) instead of inside a commit now and then,
        which would make that one commit, and everyone waiting on it, slow."""
        self._conn = conn
        self._committed = committed
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._poisoned = -1  # generations up to this one are lost
        self._stop = threading.Event()
        self._erased = threading.Event()  # card data was deleted: truncate the WAL soon
        self.largest_batch = 0
        """The most commands written in one transaction so far (tests check that batching happened)."""
        self.truncations = 0
        """Completed truncating checkpoints (after erasures)."""
        self.draining = 0
        """Callers waiting in ``drain`` (tests watch it)."""
        self._thread = threading.Thread(target=self._run, name="madoguchi-writer", daemon=True)
        self._thread.start()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_conn is not None:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = threading.Thread(target=self._checkpoint, args=(checkpoint_conn,),
                                                  name="madoguchi-checkpoint", daemon=True)
            self._checkpointer.start()

    @property
    def poisoned(self) -> int:
        """The newest lost generation (-1: none)."""
        return self._poisoned

    def poison(self, generation: int) -> None:
        """Give up every queued command of ``generation`` and older (the office is being reloaded)."""
        self._poisoned = max(self._poisoned, generation)

    def submit(self, pending: Pending) -> Future[None]:
        """Queue a command's rows; the caller must hold the office lock (so the queue keeps its order)."""
        self._queue.put(pending)
        return pending.future

    def drain(self, timeout_s: float = 60.0) -> None:
        """Block until every command queued so far is written or failed (under the office lock: nothing
        new is queued meanwhile, and the writer never takes that lock, so this always ends)."""
        if not self._thread.is_alive():
            return
        barrier = Pending(Rows.nothing(), Changes([], [], [], {}, None), -1, barrier=True)
        self.draining += 1
        try:
            self._queue.put(barrier)
            barrier.future.result(timeout_s)
        finally:
            self.draining -= 1

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # keep the stop request for the loop
                    break
                batch.append(item)
            barriers = [p for p in batch if p.barrier]
            batch = [p for p in batch if not p.barrier]
            lost = [p for p in batch if p.generation <= self._poisoned]
            for pending in lost:
                pending.future.set_exception(Poisoned())
            batch = [p for p in batch if p.generation > self._poisoned]
            if batch:
                self._write(batch)
            for barrier in barriers:  # after the whole batch: a barrier is never ahead of what preceded it
                barrier.future.set_result(None)

    def _write(self, batch: list[Pending]) -> None:
        self.largest_batch = max(self.largest_batch, len(batch))
        try:
            last_seq = write(self._conn, [p.rows for p in batch])
        except Exception as exc:
            self.poison(max(p.generation for p in batch))
            log.error("commit failed (%s): %d commands undone, and any queued after them; the office is "
                      "reloaded from the database", type(exc).__name__, len(batch))
            for pending in batch:
                pending.future.set_exception(exc)
            return
        try:
            self._committed(batch, last_seq)
        except Exception:
            log.exception("after a commit")  # the commit itself stands; callers are answered
        if any(p.rows.erases_card_data for p in batch):
            self._erased.set()
        for pending in batch:
            pending.future.set_result(None)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        while not self._stop.is_set():
            erased = self._erased.wait(CHECKPOINT_EVERY_S)
            if self._stop.is_set():
                break
            try:
                if erased:
                    self._truncate(conn)
                else:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint: %s", exc)
                if erased:
                    self._erased.set()  # the erased data may still be in the WAL: try again
                self._stop.wait(CHECKPOINT_EVERY_S)
        conn.close()

    def _truncate(self, conn: sqlite3.Connection) -> None:
        """Copy the whole WAL into the database (deleted rows are zeroed there: secure_delete) and cut
        the WAL to zero bytes, so the erased card data is in neither file any more."""
        self._erased.clear()
        conn.execute(f"PRAGMA busy_timeout = {TRUNCATE_BUSY_MS}")
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.execute("PRAGMA busy_timeout = 30000")
        if busy:
            self._erased.set()  # readers were still on the WAL: again after the next pause
        else:
            self.truncations += 1
        self._stop.wait(CHECKPOINT_EVERY_S)  # at most one truncation a second, whatever the rate of erasures

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(10)
        self._stop.set()
        self._erased.set()  # wake the checkpointer
        if self._checkpointer is not None:
            self._checkpointer.join(10)
