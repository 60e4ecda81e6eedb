"""The single writer: commits the office's changes in the order they were made, several per fsync.

A command is applied to the office in memory under the office lock and its changes are queued, still
under the lock, as plain rows; this thread writes everything queued in one transaction (one fsync) and
only then are the callers answered. Under load, commands arriving during an fsync share the next one
(group commit). If a write fails, every queued command fails with it and the office is reloaded from
the database, so no one is ever answered for a change that is not on disk.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from .core.office import Changes
from .storage.office_store import Rows, write

log = logging.getLogger(__name__)
MAX_BATCH = 256
CHECKPOINT_EVERY_S = 1.0


@dataclass
class Pending:
    rows: Rows
    changes: Changes
    future: Future[None] = field(default_factory=Future)


class Writer:
    def __init__(self, conn: sqlite3.Connection, committed: Callable[[list[Pending], int], None],
                 failed: Callable[[Exception, Callable[[], list[Pending]]], list[Pending]],
                 checkpoint_conn: sqlite3.Connection | None = None) -> None:
        """``committed(batch, last_seq)`` runs after each write; ``failed(error, drain)`` after a failed
        one: it must take the office lock, call ``drain()`` for what is still queued, and reload.

        With ``checkpoint_conn``, the WAL is copied back into the database by a thread of its own
        (passive checkpoints, which never block the writer) instead of inside a commit now and then,
        which would make that one commit, and everyone waiting on it, slow."""
        self._conn = conn
        self._committed = committed
        self._failed = failed
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="madoguchi-writer", daemon=True)
        self._thread.start()
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_conn is not None:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = threading.Thread(target=self._checkpoint, args=(checkpoint_conn,),
                                                  name="madoguchi-checkpoint", daemon=True)
            self._checkpointer.start()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        while not self._stop.wait(CHECKPOINT_EVERY_S):
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint: %s", exc)
        conn.close()

    def submit(self, pending: Pending) -> Future[None]:
        """Queue a command's rows; the caller must hold the office lock (so the queue keeps its order)."""
        self._queue.put(pending)
        return pending.future

    def _drain(self) -> list[Pending]:
        drained = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return drained
            if item is None:
                self._queue.put(None)  # keep the stop request for the loop
                return drained
            drained.append(item)

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
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                last_seq = write(self._conn, [p.rows for p in batch])
            except Exception as exc:
                lost = batch + self._failed(exc, self._drain)
                for pending in lost:
                    pending.future.set_exception(exc)
                continue
            try:
                self._committed(batch, last_seq)
            except Exception:
                log.exception("after a commit")  # the commit itself stands; callers are answered
            for pending in batch:
                pending.future.set_result(None)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(10)
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(10)
