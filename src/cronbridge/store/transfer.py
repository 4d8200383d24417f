"""`cronbridge db copy`: every row of one database into another, whichever the engines (SQLite to PostgreSQL to move a
one-machine install to HA, or back). Both at the same schema version; the destination empty; all in one transaction."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cronbridge.store import migrations
from cronbridge.store.database import is_postgresql, open_database, shown, sqlite_path

BATCH = 5000  # rows written per statement (SQLite) or buffered per COPY chunk
NUL, NUL_KEY, REPLACEMENT = "\x00", "\x02", "\ufffd"
# document keys joined by NUL in SQLite are stored with U+0002 in PostgreSQL (Dialect.key)
_KEY_COLUMNS = {("documents", "key"), ("documents", "parent")}


class CopyRefused(RuntimeError):
    """The copy would not be faithful (versions differ, the destination holds data): nothing was written."""


@dataclass
class Copied:
    """What a copy wrote: rows per table, and text values PostgreSQL could not hold as they were."""

    rows: dict[str, int] = field(default_factory=dict)
    replaced_nul: int = 0


class _Side:
    """One database seen table by table through a connection of its engine's own driver."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.postgresql = is_postgresql(location)
        if self.postgresql:
            from cronbridge.store.postgres import PgConnection, connect

            self.raw: Any = connect(location)
            self.conn: Any = PgConnection(self.raw)
        else:
            self.raw = self.conn = sqlite3.connect(sqlite_path(location), isolation_level=None)
            self.conn.row_factory = sqlite3.Row

    @property
    def dialect(self) -> str:
        return "postgresql" if self.postgresql else "sqlite"

    def version(self) -> int:
        return migrations.status(self.conn, self.dialect).current

    def tables(self) -> list[str]:
        sql = (
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            if self.postgresql
            else "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [r["name"] for r in self.conn.execute(sql, ()).fetchall() if r["name"] != "schema_version"]

    def columns(self, table: str) -> dict[str, str]:
        """Column name -> declared type, in table order."""
        if self.postgresql:
            rows = self.conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                (table,),
            ).fetchall()
            return {r["column_name"]: r["data_type"] for r in rows}
        return {r["name"]: r["type"] for r in self.conn.execute(f'PRAGMA table_info("{table}")').fetchall()}

    def count(self, table: str) -> int:
        return int(self.conn.execute(f'SELECT COUNT(*) FROM "{table}"', ()).fetchone()[0])

    def rows(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
        names = ", ".join(f'"{c}"' for c in columns)
        if self.postgresql:
            with self.raw.transaction(), self.raw.cursor(name=f"copy_{table}") as cursor:  # streamed, not loaded
                cursor.itersize = BATCH
                cursor.execute(f'SELECT {names} FROM "{table}"')
                for row in cursor:
                    yield tuple(row)
            return
        for row in self.conn.execute(f'SELECT {names} FROM "{table}"'):
            yield tuple(row)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.raw.close()


def copy(source: str, destination: str) -> Copied:
    """Copy every table of `source` into `destination` (made and migrated if new); CopyRefused when that would not be
    faithful. The destination is written in one transaction: a failure leaves it as it was."""
    with contextlib.closing(open_database(destination)):  # the destination's schema, made or migrated
        pass
    src, dst = _Side(source), _Side(destination)
    try:
        _check(src, dst)
        return _copy_tables(src, dst)
    finally:
        src.close()
        dst.close()


def _check(src: _Side, dst: _Side) -> None:
    latest = migrations.migrations(src.dialect)[-1].version
    if src.version() != latest:
        raise CopyRefused(
            f"{shown(src.location)} has schema version {src.version()}, this release {latest}: migrate it first "
            f"(cronbridge db migrate --database {shown(src.location)})"
        )
    if dst.version() != latest:
        raise CopyRefused(f"{shown(dst.location)} has schema version {dst.version()}, this release {latest}")
    if missing := set(src.tables()) - set(dst.tables()):
        raise CopyRefused(f"{shown(dst.location)} lacks the tables {', '.join(sorted(missing))}")
    if busy := [t for t in dst.tables() if dst.count(t)]:
        raise CopyRefused(f"{shown(dst.location)} already holds data (in {', '.join(busy)}): copy into an empty one")


def _copy_tables(src: _Side, dst: _Side) -> Copied:
    copied = Copied()
    dst.conn.execute("BEGIN", ())
    try:
        for table in src.tables():
            columns = list(src.columns(table))
            convert = _converter(table, columns, src, dst, copied)
            rows = (convert(row) for row in src.rows(table, columns))
            copied.rows[table] = _write(dst, table, columns, rows)
        if dst.postgresql:
            _restart_identities(dst)
        dst.conn.execute("COMMIT", ())
    except BaseException:
        with contextlib.suppress(Exception):
            dst.conn.execute("ROLLBACK", ())
        raise
    return copied


def _converter(
    table: str, columns: list[str], src: _Side, dst: _Side, copied: Copied
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Values as the destination's engine holds them: whole numbers for its integer columns, document keys in its
    spelling, and (into PostgreSQL) text without NUL."""
    kinds = dst.columns(table)
    integral = {i for i, c in enumerate(columns) if kinds.get(c, "").lower() in ("bigint", "integer")}
    keys = {i for i, c in enumerate(columns) if (table, c) in _KEY_COLUMNS}

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i, value in enumerate(values):
            if isinstance(value, float) and i in integral and value.is_integer():
                values[i] = int(value)
            elif isinstance(value, str):
                if i in keys:
                    values[i] = value.replace(NUL, NUL_KEY) if dst.postgresql else value.replace(NUL_KEY, NUL)
                elif dst.postgresql and NUL in value:
                    copied.replaced_nul += 1
                    values[i] = value.replace(NUL, REPLACEMENT)
        return tuple(values)

    return convert


def _write(dst: _Side, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    names = ", ".join(f'"{c}"' for c in columns)
    count = 0
    if dst.postgresql:
        with dst.raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as pipe:
            for row in rows:
                pipe.write_row(row)
                count += 1
        return count
    marks = ", ".join("?" * len(columns))
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            dst.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', batch)
            count, batch = count + len(batch), []
    if batch:
        dst.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', batch)
        count += len(batch)
    return count


def _restart_identities(dst: _Side) -> None:
    """Identity columns go on after the highest id copied (rows were written with their ids)."""
    found = dst.conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'",
        (),
    ).fetchall()
    for row in found:
        table, column = row["table_name"], row["column_name"]
        highest = f'MAX("{column}")'
        dst.conn.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), COALESCE({highest}, 1), {highest} IS NOT NULL)"
            f' FROM "{table}"',
            (table, column),
        )
