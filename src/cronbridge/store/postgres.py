"""The PostgreSQL database (psycopg 3 and its pool): each thread's transaction on a pool connection bound to the
thread, `?` placeholders as in SQLite, rows readable by name or position, and other processes' commits heard through
LISTEN/NOTIFY. Several cronbridge servers share one such database (docs/architecture.md, docs/deploy.md)."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.adapt
from psycopg.rows import RowMaker
from psycopg_pool import ConnectionPool

from cronbridge.errors import StoreUnavailable
from cronbridge.scope import HOME, Scope
from cronbridge.store import migrations
from cronbridge.store.database import POSTGRESQL, WIPE_KEEPS, Dialect, shown
from cronbridge.store.faults import disk_full
from cronbridge.store.hooks import Hooks

log = logging.getLogger("cronbridge.store")
CHANNEL = "cronbridge_commits"  # every committed write announces itself here, named by its process's instance id
POOL_SIZE = 24  # connections a process opens at most (request threads, the scheduler, task writes)
CONNECT_SECONDS = 10.0  # how long opening waits for the server
WAIT_SECONDS = 30.0  # how long a thread waits for a free connection of the pool
DOWN_WAIT_SECONDS = 0.25  # ... while the server was unreachable a moment ago: answer "unavailable" fast
DOWN_MEMORY_SECONDS = 30.0  # how long a failure to reach the server counts as "a moment ago"
ORDERED_LOCK_TIMEOUT = "5s"  # a write-behind flush gives up (and retries) rather than wait on a row lock forever
_WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "TRUNCATE")


@functools.lru_cache(maxsize=4096)
def translate(sql: str, named: bool = False) -> tuple[str, bool]:
    """SQLite's spelling to psycopg's: `?` placeholders (or, `named`, `:name` ones) become `%s` (`%(name)s`)
    outside quoted text and comments, and a literal `%` doubles; also whether the statement writes."""
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(sql):
        char = sql[i]
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif sql.startswith("--", i):  # a comment, to its line's end, kept as it is (but for `%`)
            end = sql.find("\n", i)
            end = len(sql) if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
            continue
        elif char == "?" and not named:
            out.append("%s")
            i += 1
            continue
        elif char == ":" and named and sql[i + 1:i + 2].isalpha() and sql[i - 1:i] != ":":
            name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", sql[i + 1:])
            assert name is not None
            out.append(f"%({name.group()})s")
            i += 1 + len(name.group())
            continue
        out.append("%%" if char == "%" else char)
        i += 1
    words = sql.lstrip().split(None, 1)
    return "".join(out), bool(words) and words[0].upper() in _WRITES


class PgRow:
    """A row as sqlite3.Row reads: by column name or by position; `keys()` names the columns."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._index[key]] if isinstance(key, str) else self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values, strict=False))!r})"


def _rows(cursor: Any) -> RowMaker[PgRow]:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return functools.partial(PgRow, index=index)


class _NumberLoader(psycopg.adapt.Loader):
    """NUMERIC (what SUM of integers gives) as SQLite answers it: an int when whole, else a float."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEN") else int(text)


def _configure(raw: psycopg.Connection[Any]) -> None:
    raw.adapters.register_loader("numeric", _NumberLoader)


def connect(url: str, **settings: str) -> psycopg.Connection[Any]:
    """A connection outside the pool (the change listener, dedicated lanes, `cronbridge db`)."""
    raw: psycopg.Connection[Any] = psycopg.connect(
        url, autocommit=True, row_factory=_rows, connect_timeout=int(CONNECT_SECONDS)
    )
    _configure(raw)
    for name, value in settings.items():
        raw.execute(f"SET {name} = '{value}'")
    return raw


class PgConnection:
    """A psycopg connection spoken to as the repositories speak to SQLite's (`?` placeholders, `executemany` on the
    connection); remembers whether the transaction wrote, so its commit is announced."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.wrote = False
        self.held: set[str] = set()  # session advisory locks this connection holds

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> psycopg.Cursor[Any]:
        text, writes = translate(sql, isinstance(params, Mapping))
        self.wrote = self.wrote or writes
        return self.raw.execute(text, params)  # type: ignore[arg-type]

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        text, writes = translate(sql)
        self.wrote = self.wrote or writes
        cursor = self.raw.cursor()
        cursor.executemany(text, rows)  # type: ignore[arg-type]
        return cursor


class ChangeListener:
    """Counts commits of other processes: a connection of its own LISTENs on the channel every write transaction
    notifies (the payload names the writer, so a process does not hear itself). A lost connection is made again,
    and counts as a change (what happened meanwhile was not heard)."""

    def __init__(self, url: str, instance: str) -> None:
        self.url = url
        self.instance = instance
        self.version = 0  # commits of other processes heard
        self.heard = 0  # every commit heard, this process's own too (what change feeds wait for)
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._conn: psycopg.Connection[Any] | None = self._listen()  # listening before the first read of state
        self._thread = threading.Thread(target=self._run, daemon=True, name="pg-changes")
        self._thread.start()

    def _listen(self) -> psycopg.Connection[Any]:
        conn = connect(self.url)
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def _bump(self, others: bool = True) -> None:
        with self._changed:
            self.version += others
            self.heard += 1
            self._changed.notify_all()

    def wait_heard(self, seen: int, timeout: float) -> int:
        """The count of commits heard, once it differs from `seen` or `timeout` seconds passed."""
        with self._changed:
            self._changed.wait_for(lambda: self.heard != seen or self._stop.is_set(), timeout)
            return self.heard

    def wait(self, timeout: float) -> bool:
        """True once another process commits (or the listener reconnected) within `timeout` seconds."""
        with self._changed:
            seen = self.version
            return self._changed.wait_for(lambda: self.version != seen or self._stop.is_set(), timeout) and (
                self.version != seen
            )

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                if self._conn is None:
                    self._conn = self._listen()
                    self._bump()
                    backoff = 0.1
                for note in self._conn.notifies(timeout=0.5):
                    self._bump(others=note.payload != self.instance)
            except psycopg.Error as exc:
                if self._stop.is_set():
                    return
                said = log.warning if backoff == 0.1 else log.debug  # once per outage, not every retry
                said("change listener: %s (trying again)", _first_line(exc))
                self._drop()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(5)
        self._drop()


class ListenerFeed:
    """A change feed on PostgreSQL: wakes its waiting thread when the process's listener hears any commit (every
    write transaction notifies; a reconnect of the listener counts too)."""

    def __init__(self, changes: ChangeListener) -> None:
        self.changes = changes
        self._seen = changes.heard
        self._closed = threading.Event()

    def wait(self, timeout: float) -> bool:
        if self._closed.is_set():
            return False
        heard = self.changes.wait_heard(self._seen, timeout)
        changed, self._seen = heard != self._seen, heard
        return changed and not self._closed.is_set()

    def close(self) -> None:
        self._closed.set()


class PostgresDatabase:
    """A PostgreSQL database shared by every repository of this process and by other processes. A thread's
    transaction holds one pool connection until it ends; reads outside a transaction borrow one for the statement."""

    dialect: Dialect = POSTGRESQL

    def __init__(self, url: str, migrate: bool = True, pool_size: int = POOL_SIZE, home: Scope = HOME) -> None:
        """`home` is the server's own account and Region: where migrations put state made before regions."""
        self.url = url
        self.settlers: list[Callable[[], None]] = []
        self.instance = uuid.uuid4().hex
        self._local = threading.local()
        self._own: list[psycopg.Connection[Any]] = []  # connections outside the pool: closed by close()
        self._own_lock = threading.Lock()
        self._ordered_lock = threading.Lock()  # write-behind flushes, one at a time
        self._ordered: PgConnection | None = None
        self._session: PgConnection | None = None  # holds session advisory locks (the scheduler lease's)
        self._session_guard = threading.Lock()
        self._down_at = 0.0  # monotonic time the server was last found unreachable (0: reachable since)
        self.disk_full_since: float | None = None  # when writes began to fail for the server's want of room
        self._checking = threading.Lock()  # one background check of the pool's idle connections at a time
        self._waiting: list[float] = []  # when each thread now waiting for a pooled connection began to wait
        self._waiting_lock = threading.Lock()
        self.pool: ConnectionPool[Any] = ConnectionPool(
            url, min_size=2, max_size=pool_size, timeout=WAIT_SECONDS, open=False, name="cronbridge",
            kwargs={"autocommit": True, "row_factory": _rows, "connect_timeout": int(CONNECT_SECONDS)},
            configure=_configure,
        )
        self.pool.open(wait=True, timeout=CONNECT_SECONDS)
        try:
            with self.pool.connection() as raw:
                conn = PgConnection(raw)
                if migrate:
                    migrations.upgrade(
                        conn, self.location, {"account": home.account, "region": home.region}, "postgresql"
                    )
                else:
                    migrations.check(conn, self.location, "postgresql")
            self.changes = ChangeListener(url, self.instance)
        except BaseException:
            self.pool.close()
            raise

    @property
    def location(self) -> str:
        return shown(self.url)

    # connections ------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[PgConnection]:
        """The connection this thread is bound to (a dedicated lane), else one of the pool for the duration."""
        bound: PgConnection | None = getattr(self._local, "bound", None)
        if bound is not None:
            yield bound
            return
        recently_down = self._down_at and time.monotonic() - self._down_at < DOWN_MEMORY_SECONDS
        began = time.monotonic()
        with self._waiting_lock:
            self._waiting.append(began)
        try:
            raw = self.pool.getconn(timeout=DOWN_WAIT_SECONDS if recently_down else WAIT_SECONDS)
        finally:
            with self._waiting_lock:
                self._waiting.remove(began)
        try:
            yield PgConnection(raw)
        finally:
            self.pool.putconn(raw)  # (a connection left in a transaction or broken is discarded by the pool)

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """Turn a lost or unreachable server into StoreUnavailable (a retryable 503); the pool's idle connections are
        checked in the background, so the next request finds live ones once the server is back."""
        try:
            yield
        except psycopg.OperationalError as exc:
            self._down_at = time.monotonic()
            threading.Thread(target=self._check_pool, daemon=True, name="pg-check").start()
            raise StoreUnavailable(f"The state database is unavailable ({_first_line(exc)}); retry.") from exc
        self._down_at = 0.0

    def _check_pool(self) -> None:
        if not self._checking.acquire(blocking=False):
            return
        try:
            self.pool.check()
        except Exception as exc:  # the server is still away: the next failure checks again
            log.debug("pool check: %s", exc)
        finally:
            self._checking.release()

    def _dedicated(self, **settings: str) -> PgConnection:
        raw = connect(self.url, **settings)
        with self._own_lock:
            self._own.append(raw)
        return PgConnection(raw)

    def _forget(self, conn: PgConnection) -> None:
        with self._own_lock, contextlib.suppress(ValueError):
            self._own.remove(conn.raw)
        with contextlib.suppress(Exception):
            conn.raw.close()

    # transactions -----------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """BEGIN ... COMMIT on this thread's connection (ROLLBACK on error); nests by joining the outer one. A
        transaction that wrote announces its commit to the other processes."""
        local = self._local
        outer: PgConnection | None = getattr(local, "conn", None)
        if outer is not None:
            yield outer
            return
        scope = Hooks()
        with self._reaching(), self._connection() as conn:
            local.conn, local.scope = conn, scope
            try:
                conn.raw.execute("BEGIN")
                conn.wrote = False
                try:
                    yield conn
                    if conn.wrote:
                        conn.raw.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.instance))
                    conn.raw.execute("COMMIT")
                except BaseException as exc:
                    if disk_full(exc) and self.disk_full_since is None:
                        self.disk_full_since = time.time()
                    with contextlib.suppress(psycopg.Error):
                        conn.raw.execute("ROLLBACK")
                    local.conn = local.scope = None
                    scope.rolled_back()
                    raise
            finally:
                local.conn = local.scope = None
        if conn.wrote:
            self.disk_full_since = None  # a write went through: there is room again
        scope.committed()

    @contextmanager
    def savepoint(self) -> Iterator[PgConnection]:
        """A transaction that, nested in another, is a savepoint of it (an error undoes its own writes only)."""
        conn: PgConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self.transaction() as made:
                yield made
            return
        with self._local.scope.savepoint(lambda sql: conn.execute(sql), conn) as inner:
            yield inner

    @contextmanager
    def ordered_transaction(self) -> Iterator[PgConnection]:
        """A transaction on the connection of write-behind flushes, one at a time, apart from any transaction this
        thread has open (which sees its writes once it commits: READ COMMITTED)."""
        local = self._local
        with self._ordered_lock:
            saved = (getattr(local, "conn", None), getattr(local, "scope", None), getattr(local, "bound", None))
            if self._ordered is None or self._ordered.raw.closed:
                with self._reaching():
                    self._ordered = self._dedicated(lock_timeout=ORDERED_LOCK_TIMEOUT)
            local.conn = local.scope = None
            local.bound = self._ordered
            try:
                with self.transaction() as conn:
                    yield conn
            except StoreUnavailable:
                if self._ordered.raw.broken or self._ordered.raw.closed:
                    self._forget(self._ordered)
                    self._ordered = None
                raise
            finally:
                local.conn, local.scope, local.bound = saved

    @contextmanager
    def urgent(self) -> Iterator[None]:
        """Work on a connection of this thread's own, outside the pool: the lease is renewed and due slots are
        claimed however many threads wait for a pooled connection."""
        local = self._local
        if getattr(local, "bound", None) is not None or getattr(local, "conn", None) is not None:
            yield
            return
        lane: PgConnection | None = getattr(local, "lane", None)
        if lane is None or lane.raw.closed or lane.raw.broken:
            if lane is not None:
                self._forget(lane)
                local.lane = None
            with self._reaching():
                lane = local.lane = self._dedicated()
        local.bound = lane
        try:
            yield
        finally:
            local.bound = None

    def in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    def session_lock(self, key: str) -> bool:
        """A session advisory lock on the process's session connection: PostgreSQL releases it when that connection
        ends, so a process that dies, on any host, lets go of it at once. A lost connection loses its locks."""
        with self._session_guard, self._reaching():
            session = self._session
            if session is None or session.raw.closed or session.raw.broken:
                if session is not None:
                    self._forget(session)
                session = self._session = self._dedicated()
            if key in session.held:
                return True
            row = session.execute("SELECT pg_try_advisory_lock(hashtextextended(?, 0)) AS taken", (key,)).fetchone()
            taken = bool(row is not None and row["taken"])
            if taken:
                session.held.add(key)
            return taken

    def session_unlock(self, key: str) -> None:
        with self._session_guard:
            session = self._session
            if session is not None and key in session.held:
                session.held.discard(key)
                with self._reaching():
                    session.execute("SELECT pg_advisory_unlock(hashtextextended(?, 0))", (key,))

    def serialize(self, *keys: str) -> None:
        conn: PgConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            raise RuntimeError("serialize() is for a transaction's read-then-write steps")
        if len(keys) == 1:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", keys)
        elif keys:  # in one order whoever asks (no deadlock between two batches), in one statement
            conn.execute(
                "SELECT pg_advisory_xact_lock(h) FROM"
                " (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(?::text[]) AS k ORDER BY 1) AS ordered",
                (list(keys),),
            )

    def after_commit(self, callback: Callable[[], None]) -> None:
        scope: Hooks | None = getattr(self._local, "scope", None)
        if scope is None:
            callback()
        else:
            scope.commit_hooks.append(callback)

    def after_rollback(self, callback: Callable[[], None]) -> None:
        scope: Hooks | None = getattr(self._local, "scope", None)
        if scope is not None:
            scope.rollback_hooks.append(callback)

    # statements -------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn: PgConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn.execute(sql, params).fetchall()
        with self._reaching(), self._connection() as borrowed:
            return borrowed.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        conn: PgConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn.execute(sql, params).fetchone()
        with self._reaching(), self._connection() as borrowed:
            return borrowed.execute(sql, params).fetchone()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.transaction() as conn:
            return int(conn.execute(sql, params).rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        with self.transaction() as conn:
            return int(conn.executemany(sql, rows).rowcount)

    def settle(self) -> None:
        for settle in self.settlers:
            settle()

    def data_version(self) -> int:
        return self.changes.version

    def change_feed(self) -> ListenerFeed:
        return ListenerFeed(self.changes)

    def stalled_for(self) -> float:
        """How long the longest-waiting thread has waited for a pooled connection (0: none waits). There is no
        process-wide write lock; a thread that finds no free connection in WAIT_SECONDS answers 503."""
        with self._waiting_lock:
            return time.monotonic() - min(self._waiting) if self._waiting else 0.0

    def wipe(self) -> None:
        self.settle()
        with self.transaction() as conn:
            rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
            tables = [r["tablename"] for r in rows if r["tablename"] not in WIPE_KEEPS]
            if tables:
                conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables))

    def close(self) -> None:
        self.changes.close()
        self.pool.close()
        with self._own_lock:
            own, self._own = self._own, []
        for raw in own:
            with contextlib.suppress(Exception):
                raw.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
