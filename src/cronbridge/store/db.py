"""The SQLite database: one connection, one lock, WAL, and the schema each repository declares."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMAS: list[str] = []


def schema(sql: str) -> str:
    """Register DDL (idempotent: CREATE ... IF NOT EXISTS) to run when a database opens."""
    SCHEMAS.append(sql)
    return sql


class Database:
    """A SQLite file shared by every repository; all access is serialized by one re-entrant lock."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.settlers: list[Callable[[], None]] = []  # write-behind buffers, committed by settle()
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
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); nests by joining the outer transaction."""
        with self.lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

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
        """SQLite's PRAGMA data_version: changes when another connection (another process) commits."""
        with self.lock:
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

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
