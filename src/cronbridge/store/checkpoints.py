"""The WAL checkpointer: committed pages are copied into the database file by a thread of its own, on a connection of
its own, soon after each commit. SQLite releases the interpreter lock while it copies, so the copying uses another
core. The commits keep SQLite's own auto-checkpoint: it finds the pages copied already (cheap), and only a writer's
checkpoint can restart the log, which would otherwise grow without end under a stream of commits."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger("cronbridge.store")
GATHER = 0.05  # seconds of commits gathered before a checkpoint (one checkpoint for a burst of commits)


class Checkpointer:
    """Runs PRAGMA wal_checkpoint(PASSIVE) after commits: it never blocks a reader or a writer, and copies what
    no reader still needs (the rest waits for the next one)."""

    def __init__(self, path: str, on_result: Callable[[sqlite3.Error | None], None]) -> None:
        self.path = path
        self._on_result = on_result  # told each checkpoint's outcome (a full disk shows first here)
        self._committed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="wal-checkpoints")
        self._thread.start()

    def committed(self) -> None:
        """A transaction committed: its pages are to be copied soon."""
        self._committed.set()

    def _loop(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            while not self._stop.is_set():
                self._committed.wait()
                self._stop.wait(GATHER)
                self._committed.clear()
                self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as err:  # busy with another process's checkpoint, or closing: the next one catches up
            log.debug("WAL checkpoint skipped: %s", err)
            self._on_result(err)
        else:
            self._on_result(None)

    def close(self) -> None:
        self._stop.set()
        self._committed.set()
        self._thread.join(5)
