"""The store's seam: what every repository needs of a database, whichever engine holds it (SQLite, the embedded
default, or PostgreSQL), and where a database URL leads (docs/architecture.md argues the design)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import psycopg

from cronbridge.errors import StoreUnavailable
from cronbridge.scope import HOME, Scope

if TYPE_CHECKING:
    from cronbridge.store.peers import ChangeFeed

# what a database's failures raise, whichever engine (a lease renewal survives them and tries again)
ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error, StoreUnavailable)
# tables a reset keeps: the schema's version and what the server processes on one database share
WIPE_KEEPS = frozenset({"schema_version", "leases", "peers", "control_requests", "cache_generations", "server_secrets"})


def like_literal(text: str) -> str:
    """Text matched literally inside a LIKE pattern (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def arn_like(scope: Scope, service: str) -> str:
    """A LIKE pattern (ESCAPE '\\') of the ARNs of `service` in one account and Region, in any partition."""
    return f"arn:%:{like_literal(service)}:{like_literal(scope.region)}:{like_literal(scope.account)}:%"


class Row(Protocol):
    """A result row: by column name or position (sqlite3.Row, and PostgreSQL's rows made to match)."""

    def __getitem__(self, key: int | str) -> Any: ...
    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """The connection a transaction runs on: `?` placeholders in both dialects."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    """The few spellings the two engines do not share (everything else is written once, in SQL both accept)."""

    name: str  # sqlite | postgresql

    def whole(self, expression: str) -> str:
        """The integer part of a non-negative number (SQLite's CAST truncates; PostgreSQL's rounds)."""
        return f"CAST({expression} AS INTEGER)" if self.name == "sqlite" else f"CAST(FLOOR({expression}) AS BIGINT)"

    def key(self, value: str) -> str:
        """A key as this engine stores it: PostgreSQL's text holds no NUL (a separator in some document keys), so
        NUL is stored as U+0002 there (no AWS name holds a control character; U+0001 separates a bus from a rule)."""
        return value if self.name == "sqlite" else value.replace("\x00", "\x02")

    def unkey(self, value: str) -> str:
        """A stored key as it was given (the inverse of `key`)."""
        return value if self.name == "sqlite" else value.replace("\x02", "\x00")

    def text(self, value: str) -> str:
        """Free text as this engine can hold it: PostgreSQL's text holds no NUL, so each is stored as U+FFFD."""
        return value if self.name == "sqlite" or "\x00" not in value else value.replace("\x00", "\ufffd")

    def like(self) -> str:
        """The operator matching a LIKE pattern regardless of ASCII case (SQLite's LIKE does; PostgreSQL's ILIKE)."""
        return "LIKE" if self.name == "sqlite" else "ILIKE"

    def json_items(self, expression: str, alias: str) -> str:
        """A FROM item with one row per element of the JSON array held as text in `expression`, its text in the
        column `{alias}.value` (SQLite's json_each; PostgreSQL's json_array_elements_text)."""
        if self.name == "sqlite":
            return f"json_each({expression}) AS {alias}"
        return f"json_array_elements_text(CAST({expression} AS json)) AS {alias}(value)"

    def contains(self, haystack: str, needle: str = "?") -> str:
        """A test that `haystack` contains `needle` (case-sensitive)."""
        return f"instr({haystack}, {needle}) > 0" if self.name == "sqlite" else f"strpos({haystack}, {needle}) > 0"


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")


class Database(Protocol):
    """One database shared by every repository of a process (and by every process on it).

    Transactions belong to the calling thread: nested ones join the outer one, `savepoint()` makes a part that may
    fail alone, `after_commit`/`after_rollback` run when the outermost one ends. SQLite serializes all of them on one
    connection; PostgreSQL gives each thread's transaction a connection of the pool, and `serialize(key)` makes the
    read-then-write steps on one name (a client token, a schedule's name) take turns across threads and processes,
    as SQLite's single writer always does."""

    dialect: Dialect
    settlers: list[Callable[[], None]]

    @property
    def disk_full_since(self) -> float | None:
        """When writes began to fail for want of room (None: they do not); /_cronbridge/health reports it."""
        ...

    @property
    def location(self) -> str:
        """Where the data lives, as people are shown it (a file path, a URL without its password)."""
        ...

    def transaction(self) -> AbstractContextManager[Connection]: ...
    def savepoint(self) -> AbstractContextManager[Connection]: ...

    def ordered_transaction(self) -> AbstractContextManager[Connection]:
        """A transaction for write-behind buffers, taken one at a time: what one flush took from memory reaches the
        tables before what the next one took (SQLite: the thread's transaction, one writer serializes them all;
        PostgreSQL: a connection of its own, even inside this thread's transaction)."""
        ...

    def urgent(self) -> AbstractContextManager[None]:
        """Go ahead of every thread waiting for the database (the scheduler lease, claims of due slots)."""
        ...

    def in_transaction(self) -> bool:
        """Whether the calling thread is inside a transaction of this database."""
        ...

    def session_lock(self, key: str) -> bool | None:
        """Hold `key` for as long as this process's session connection lives (it dies with the process, wherever it
        runs). True when held (already, or now), False when another live session holds it, None where the engine
        has no sessions (SQLite: one host, whose process ids tell the dead)."""
        ...

    def session_unlock(self, key: str) -> None: ...

    def serialize(self, *keys: str) -> None:
        """Inside a transaction: hold a lock on each of `keys` until it ends (PostgreSQL's transaction advisory
        locks, taken in one order by every caller)."""
        ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...
    def after_rollback(self, callback: Callable[[], None]) -> None: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
    def one(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int: ...

    def settle(self) -> None:
        """Commit what write-behind buffers hold, so that a read sees the latest state."""
        ...

    def data_version(self) -> int:
        """A number that changes when another process commits (SQLite's data_version; PostgreSQL's notifications)."""
        ...

    def change_feed(self) -> ChangeFeed:
        """A feed that wakes its one waiting thread when any connection, of this process or another, may have
        committed (SQLite's data_version looked at often; PostgreSQL's LISTEN/NOTIFY)."""
        ...

    def stalled_for(self) -> float:
        """How long this process's writers have waited behind one holder (the watchdog's measure; 0: no wait)."""
        ...

    def wipe(self) -> None:
        """Delete every row of every table but the few kept (the test-only reset)."""
        ...

    def close(self) -> None: ...


def is_postgresql(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def sqlite_path(location: str) -> Path:
    """The file of a SQLite location: `sqlite:///abs/path`, `sqlite://rel/path` or a plain path."""
    if location.startswith("sqlite://"):
        return Path(location[len("sqlite://"):])
    return Path(location)


def shown(location: str) -> str:
    """A location fit to print: a PostgreSQL URL without its password."""
    if not is_postgresql(location):
        return str(sqlite_path(location))
    parts = urlsplit(location)
    if parts.password is None:
        return location
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_database(location: str | Path, migrate: bool = True, home: Scope = HOME) -> Database:
    """The database at a location: a postgresql:// URL (libpq's, multi-host strings included) or a SQLite file.
    `home` is the server's own account and Region: where migrations put state made before regions."""
    text = str(location)
    if is_postgresql(text):
        from cronbridge.store.postgres import PostgresDatabase

        return PostgresDatabase(text, migrate=migrate, home=home)
    from cronbridge.store.db import SqliteDatabase

    return SqliteDatabase(sqlite_path(text), migrate=migrate, home=home)
