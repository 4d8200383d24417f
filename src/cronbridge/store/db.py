"""The SQLite database (the embedded default): one write connection behind one lock, read-only connections beside
it (WAL: readers never wait for the writer), and the versioned schema (store/migrations/)."""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from cronbridge.scope import HOME, Scope
from cronbridge.store import migrations
from cronbridge.store.checkpoints import Checkpointer
from cronbridge.store.database import SQLITE, WIPE_KEEPS, Dialect
from cronbridge.store.faults import disk_full
from cronbridge.store.hooks import Hooks
from cronbridge.store.locks import PriorityLock
from cronbridge.store.peers import ChangeFeed, DataVersionFeed

IDLE_READERS = 16  # read-only connections kept open for the next reader
PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000")


class SqliteDatabase:
    """A SQLite file shared by every repository. Writes are serialized by one re-entrant lock, served in turn, on the
    one write connection; reads outside a write transaction go to read-only connections of a small pool (WAL lets
    them read a committed snapshot while the writer writes), so a read never waits for the lock."""

    dialect: Dialect = SQLITE

    def __init__(self, path: Path | str, migrate: bool = True, home: Scope = HOME) -> None:
        """`home` is the server's own account and Region: where migrations put state made before regions."""
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = PriorityLock()
        self.settlers: list[Callable[[], None]] = []  # write-behind buffers, committed by settle()
        self._hooks = Hooks()  # the transaction open (one at a time: the lock serializes them)
        self._serial = 0  # write transactions begun: data_version is read once per transaction
        self._version: tuple[int, int] | None = None  # (transaction serial, data_version read in it)
        self._writes_full_since: float | None = None  # when writes began to fail for want of room (None: they do not)
        self._copies_full_since: float | None = None  # when checkpoints did (commits into the log may still fit)
        self._readers: list[sqlite3.Connection] = []  # idle read-only connections
        # writers of every process on this file take turns through this lock file (the kernel queues them) before
        # SQLite's own write lock, whose waiters sleep and poll (1, 2, 5, 10 ms...) instead of being woken
        self._turns = open(f"{self.path}-writer", "a+b") if self.shared else None  # noqa: SIM115 - closed by close()
        self._readers_lock = threading.Lock()
        self._closed = False
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")
        try:
            if migrate:
                # nothing is touched when a newer release wrote it
                migrations.upgrade(self.conn, self.path, {"account": home.account, "region": home.region}, "sqlite")
            else:
                migrations.check(self.conn, self.path, "sqlite")
        except BaseException:
            self.conn.close()
            if self._turns is not None:
                self._turns.close()
            raise
        self._checkpoints: Checkpointer | None = None
        if self.path != ":memory:":  # pages are copied into the file ahead of the commits' own auto-checkpoints
            self._checkpoints = Checkpointer(self.path, self._checkpointed)

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """This process's turn to write, among the processes on the file (the caller holds `lock`)."""
        if self._turns is None:
            yield
            return
        fcntl.flock(self._turns, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._turns, fcntl.LOCK_UN)

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
            with self._writer_turn():
                done = yield from self._outermost()
        done.committed()

    @property
    def location(self) -> str:
        return self.path

    def ordered_transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """The one writer serializes every transaction: the thread's own will do."""
        return self.transaction()

    def in_transaction(self) -> bool:
        """Whether this thread holds the database (inside a transaction, or going ahead of the others)."""
        return self.lock.owned()

    def stalled_for(self) -> float:
        """How long the thread holding the write lock has held it while others wait (the watchdog's measure)."""
        return self.lock.stalled_for()

    def session_lock(self, key: str) -> bool | None:
        """No sessions: the processes sharing a SQLite file are on one host (the lease asks their process ids)."""
        return None

    def session_unlock(self, key: str) -> None:
        """Nothing was taken."""

    def serialize(self, *keys: str) -> None:
        """Nothing to take: BEGIN IMMEDIATE already made this transaction the only writer."""

    def change_feed(self) -> ChangeFeed:
        """PRAGMA data_version on a connection of its own: it moves when any other connection commits."""
        return DataVersionFeed(self.path)

    def _outermost(self) -> Generator[sqlite3.Connection, None, Hooks]:
        """BEGIN IMMEDIATE, the caller's work, COMMIT (ROLLBACK on error); the after-commit callbacks to run."""
        self.conn.execute("BEGIN IMMEDIATE")
        self._serial += 1
        try:
            yield self.conn
        except BaseException as exc:
            self._rolled_back(exc)
            raise
        try:
            self.conn.execute("COMMIT")
            if self._checkpoints is not None:
                self._checkpoints.committed()
        except BaseException as exc:
            self._rolled_back(exc)
            raise
        done, self._hooks = self._hooks, Hooks()
        self._writes_full_since = None  # a write went through: there is room again
        return done

    def _rolled_back(self, exc: BaseException) -> None:
        """The outermost transaction failed: roll it back and run the after-rollback callbacks."""
        self._note_failure(exc)
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        undone, self._hooks = self._hooks, Hooks()
        undone.rolled_back()

    def _note_failure(self, exc: BaseException) -> None:
        """Remember when writes started failing for want of room (reported by /_cronbridge/health)."""
        if disk_full(exc) and self._writes_full_since is None:
            self._writes_full_since = time.time()

    def _checkpointed(self, err: BaseException | None) -> None:
        """A checkpoint's outcome: one refused for want of room means the disk is full even while commits still fit
        in the write-ahead log; the next one that copies clears it."""
        if err is None:
            self._copies_full_since = None
        elif disk_full(err) and self._copies_full_since is None:
            self._copies_full_since = time.time()

    @property
    def disk_full_since(self) -> float | None:
        """Since when writes or checkpoints have failed for want of room (reported by /_cronbridge/health); None
        when there is room."""
        known = [t for t in (self._writes_full_since, self._copies_full_since) if t is not None]
        return min(known) if known else None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the current transaction commits (never if it rolls back); at once outside one."""
        with self.lock:
            if self.conn.in_transaction:
                self._hooks.commit_hooks.append(callback)
                return
        callback()

    def after_rollback(self, callback: Callable[[], None]) -> None:
        """Call `callback` if the current transaction (or the savepoint it is made in) rolls back: what was taken
        out of memory to be written goes back. Never called outside a transaction."""
        with self.lock:
            if self.conn.in_transaction:
                self._hooks.rollback_hooks.append(callback)

    @contextmanager
    def savepoint(self) -> Iterator[sqlite3.Connection]:
        """A transaction that, nested in another, is a savepoint of it: an error inside undoes its own writes only
        (one RunTask of a batch of launches fails, the others stay)."""
        with self.lock:
            if not self.conn.in_transaction:
                with self.transaction() as conn:
                    yield conn
                return
            with self._hooks.savepoint(self.conn.execute, self.conn) as conn:
                yield conn

    @property
    def shared(self) -> bool:
        """Whether other connections see this database (a file): False for ":memory:"."""
        return self.path != ":memory:"

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection to read with: inside this thread's write transaction the write connection (it sees its own
        uncommitted writes), else a read-only connection of the pool (never waits for the write lock)."""
        if not self.shared or self.lock.owned():
            with self.lock:
                yield self.conn
            return
        conn = self._borrow()
        try:
            yield conn
        finally:
            self._give_back(conn)

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Several reads that see one committed state (a read transaction), beside the writer."""
        with self.reading() as conn:
            if conn is self.conn:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def _borrow(self) -> sqlite3.Connection:
        with self._readers_lock:
            if self._readers:
                return self._readers.pop()
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def _give_back(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # a read that failed half-way must not keep an old snapshot
            conn.execute("ROLLBACK")
        with self._readers_lock:
            if not self._closed and len(self._readers) < IDLE_READERS:
                self._readers.append(conn)
                return
        conn.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.reading() as conn:
            return conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self.reading() as conn:
            cursor = conn.execute(sql, params)
            row: sqlite3.Row | None = cursor.fetchone()
            cursor.close()  # its statement ends here: the connection holds no snapshot while idle
            return row

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement (a transaction of its own outside one); returns the number of rows changed."""
        with self.lock:
            try:
                if self.conn.in_transaction:
                    return self.conn.execute(sql, params).rowcount
                with self._writer_turn():
                    return self.conn.execute(sql, params).rowcount
            except sqlite3.Error as exc:
                self._note_failure(exc)
                raise

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        with self.lock:
            if self.conn.in_transaction:
                return self.conn.executemany(sql, rows).rowcount
            with self._writer_turn():
                return self.conn.executemany(sql, rows).rowcount

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
        """Delete every row of every table but the few kept (the test-only reset)."""
        self.settle()
        with self.transaction() as conn:
            tables = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            for row in tables:
                if not row["name"].startswith("sqlite_") and row["name"] not in WIPE_KEEPS:
                    conn.execute(f'DELETE FROM "{row["name"]}"')

    def close(self) -> None:
        with self._readers_lock:
            self._closed = True
            idle, self._readers = self._readers, []
        for conn in idle:
            conn.close()
        if self._checkpoints is not None:
            self._checkpoints.close()
        with self.lock:
            self.conn.close()
            if self._turns is not None:
                self._turns.close()
