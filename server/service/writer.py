"""The single writer: commits the office's changes in the order they were made, several per fsync.

A command is applied to the office in memory under the office lock and its changes are queued, still
under the lock, as plain rows; this thread writes everything queued in one transaction (one fsync) and
only then are the callers answered. Under load, commands arriving during an fsync share the next one
(group commit).

The writer never takes the office lock. Each queued command carries the *generation* of the office it
was applied to. When a write fails, or a command breaks the office, that generation is *poisoned*:
every command of it still queued fails too (its caller hears 503, nothing of it is written), and the
office is reloaded from the database as a new generation. So nobody is ever answered for a change
that is not on disk, and nothing is written on top of a change that was lost.
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


class Poisoned(Exception):
    """The office this command was applied to was lost with an earlier command; it was not written."""


@dataclass
class Pending:
    rows: Rows
    changes: Changes
    generation: int
    future: Future[None] = field(default_factory=Future)


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
            lost = [p for p in batch if p.generation <= self._poisoned]
            for pending in lost:
                pending.future.set_exception(Poisoned())
            batch = [p for p in batch if p.generation > self._poisoned]
            if batch:
                self._write(batch)

    def _write(self, batch: list[Pending]) -> None:
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
        for pending in batch:
            pending.future.set_result(None)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        while not self._stop.wait(CHECKPOINT_EVERY_S):
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint: %s", exc)
        conn.close()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(10)
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(10)
