"""Versioned schema: numbered forward migrations (`<dialect>/NNNN_name.sql`: sqlite/ and postgresql/ hold the same
numbers), applied in order on open, each in its own transaction with its version row; a database newer than this
release is refused with nothing touched. Migrators of several processes take turns (SQLite's write lock, a
PostgreSQL advisory lock)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

VERSION_TABLE = {
    "sqlite": "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS schema_version ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)",
}
_BEGIN = {
    "sqlite": ("BEGIN IMMEDIATE",),
    # every migrator of every process waits for this lock (any constant: it names cronbridge's schema changes)
    "postgresql": ("BEGIN", "SELECT pg_advisory_xact_lock(7012840517)"),
}
_EXISTS = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
    "postgresql": "SELECT 1 WHERE to_regclass(?) IS NOT NULL",
}
# the columns that releases before versions added in place to `invocations` (a database older than 0.1.0 may lack
# some); migration 0001 needs them to exist before it indexes them
_UNVERSIONED_COLUMNS = (
    ("fired_at", "REAL"),
    ("next_attempt_at", "REAL"),
    ("exhausted", "TEXT"),
    ("dead_letter", "TEXT"),
    ("dead_letter_detail", "TEXT"),
    ("covers_until", "REAL"),
    ("slot_count", "INTEGER NOT NULL DEFAULT 1"),
)
_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


class SchemaTooNew(RuntimeError):
    """The database was written by a newer cronbridge: refused rather than guessed at."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class Status:
    """Where a database stands: its version, this release's latest, and the migrations it still lacks."""

    current: int
    latest: int
    pending: tuple[Migration, ...]
    unversioned: bool  # made by a release before versions (0.1.0), not yet adopted


def migrations(dialect: str = "sqlite") -> tuple[Migration, ...]:
    """Every migration of a dialect, in version order (the files are the package's own data)."""
    folder = resources.files(__package__).joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration {migration.version} ({migration.name}) out of sequence: {expected} expected")
    return tuple(found)


def status(conn: Any, dialect: str = "sqlite") -> Status:
    """Where the database behind `conn` (a connection taking `?` placeholders) stands."""
    known = migrations(dialect)
    latest = known[-1].version if known else 0
    current = 0
    if _exists(conn, "schema_version", dialect):
        current = int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version", ()).fetchone()[0])
    unversioned = dialect == "sqlite" and current == 0 and _exists(conn, "invocations", dialect)
    return Status(current, latest, tuple(m for m in known if m.version > current), unversioned)


def check(conn: Any, path: str, dialect: str = "sqlite") -> Status:
    """The database's status; SchemaTooNew when a newer cronbridge wrote it (nothing is touched)."""
    found = status(conn, dialect)
    if found.current > found.latest:
        raise SchemaTooNew(
            f"The database {path} has schema version {found.current}, newer than this cronbridge knows "
            f"({found.latest}): it was written by a newer release. Upgrade cronbridge, or restore a backup "
            "made by this release; the database was not touched."
        )
    return found


def upgrade(conn: Any, path: str, params: Mapping[str, str], dialect: str = "sqlite") -> list[Migration]:
    """Apply every pending migration in order, each in one transaction with its version row; returns them.
    `params` are the named parameters migrations may use: `account` and `region`, the server's own (where state
    made before regions existed is moved)."""
    found = check(conn, path, dialect)
    if not found.pending:
        return []
    if found.unversioned:
        conn.execute(VERSION_TABLE[dialect], ())
        _adopt_unversioned(conn)
    applied: list[Migration] = []
    for migration in found.pending:
        _begin(conn, dialect)
        try:
            conn.execute(VERSION_TABLE[dialect], ())
            if check(conn, path, dialect).current >= migration.version:  # another process applied it meanwhile
                conn.execute("ROLLBACK", ())
                continue
            for statement in _statements(migration.sql):
                conn.execute(statement, dict(params))
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, time.time()),
            )
            conn.execute("COMMIT", ())
        except BaseException:
            with contextlib.suppress(Exception):  # (a transaction the engine already ended)
                conn.execute("ROLLBACK", ())
            raise
        applied.append(migration)
    return applied


def _begin(conn: Any, dialect: str) -> None:
    for statement in _BEGIN[dialect]:
        conn.execute(statement, ())


def _adopt_unversioned(conn: Any) -> None:
    """A database of a release before versions: the columns those releases added in place, added where missing."""
    present = {r[1] for r in conn.execute("PRAGMA table_info(invocations)").fetchall()}
    for name, kind in _UNVERSIONED_COLUMNS:
        if present and name not in present:
            conn.execute(f"ALTER TABLE invocations ADD COLUMN {name} {kind}")


def _exists(conn: Any, table: str, dialect: str) -> bool:
    return conn.execute(_EXISTS[dialect], (table,)).fetchone() is not None


def _statements(script: str) -> list[str]:
    """The statements of a migration file (`--` comments dropped; statements end with `;` at a line's end)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().rstrip(";").strip()]
