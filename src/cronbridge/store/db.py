"""The SQLite database: one connection, one lock, WAL, and the schema each repository declares."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cronbridge.store.locks import PriorityLock

SCHEMAS: list[str] = []


def schema(sql: str) -> str:
    """Register DDL (idempotent: CREATE ... IF NOT EXISTS) to run when a database opens."""
    SCHEMAS.append(sql)
    return sql


class Database:
    """A SQLite file shared by every repository; all access is serialized by one re-entrant lock, served in turn."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = PriorityLock()
        self.settlers: list[Callable[[], None]] = []  # write-behind buffers, committed by settle()
        self._depth = 0  # nested transactions open (savepoints inside the outer BEGIN IMMEDIATE)
        self._serial = 0  # write transactions begun: data_version is read once per transaction
        self._version: tuple[int, int] | None = None  # (transaction serial, data_version read in it)
        self._after_commit: list[Callable[[], None]] = []
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.migrate()

    def migrate(self) -> None:
        with self.lock:
            for ddl in SCHEMAS:
                self.conn.executescript(ddl)

    @contextmanager
    def urgent(self) -> Iterator[None]:
        """Hold the connection's lock ahead of every thread waiting for it: the scheduler lease must be renewed
        on time however busy the database is."""
        self.lock.acquire(urgent=True)
        try:
            yield
        finally:
            self.lock.release()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); nests by joining the outer transaction."""
        with self.lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._serial += 1
            try:
                yield self.conn
            except BaseException:
                self._after_commit.clear()
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            done, self._after_commit = self._after_commit, []
        for callback in done:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the current transaction commits (never if it rolls back); at once outside one."""
        with self.lock:
            if self.conn.in_transaction:
                self._after_commit.append(callback)
                return
        callback()

    @contextmanager
    def savepoint(self) -> Iterator[sqlite3.Connection]:
        """A transaction that, nested in another, is a savepoint of it: an error inside undoes its own writes only
        (one RunTask of a batch of launches fails, the others stay)."""
        with self.lock:
            if not self.conn.in_transaction:
                with self.transaction() as conn:
                    yield conn
                return
            yield from self._savepoint()

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        self._depth += 1
        name = f"nested_{self._depth}"
        callbacks = len(self._after_commit)
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            del self._after_commit[callbacks:]  # what it undid will not commit
            raise
        else:
            self.conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        with self.lock:
            return self.conn.execute(sql, params).rowcount

    def settle(self) -> None:
        """Commit what write-behind buffers hold, so that a read sees the latest state."""
        for settle in self.settlers:
            settle()

    def data_version(self) -> int:
        """SQLite's PRAGMA data_version: changes when another connection (another process) commits. Read once per
        write transaction: while BEGIN IMMEDIATE holds the write lock, no other connection can commit."""
        with self.lock:
            memo = self._version
            if self.conn.in_transaction and memo is not None and memo[0] == self._serial:
                return memo[1]
            version = int(self.conn.execute("PRAGMA data_version").fetchone()[0])
            self._version = (self._serial, version) if self.conn.in_transaction else None
            return version

    def wipe(self) -> None:
        """Delete every row of every table (the test-only reset)."""
        self.settle()
        with self.transaction() as conn:
            tables = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            for row in tables:
                if not row["name"].startswith("sqlite_"):
                    conn.execute(f'DELETE FROM "{row["name"]}"')

    def close(self) -> None:
        with self.lock:
            self.conn.close()
