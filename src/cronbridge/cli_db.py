"""`cronbridge db status|migrate|backup|copy`: the state database's schema version, its migrations, a consistent copy
while the server runs (SQLite's online backup; pg_dump for PostgreSQL), and a copy from one database to another."""

from __future__ import annotations

import argparse
import contextlib
import glob
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cronbridge.config import from_environment
from cronbridge.store import migrations, transfer
from cronbridge.store.database import is_postgresql, shown, sqlite_path

COMMAND = "db"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(COMMAND, help="the state database: schema version, migrations, backup, copy")
    actions = p.add_subparsers(dest="db_action", required=True)
    for name, text in (("status", "schema version and pending migrations"), ("migrate", "apply pending migrations")):
        _where(actions.add_parser(name, help=text))
    backup = actions.add_parser(
        "backup", help="a consistent copy taken while the server runs (SQLite: a database file; PostgreSQL: pg_dump's "
        "custom format, restored with pg_restore)",
    )
    backup.add_argument("destination", type=Path)
    _where(backup)
    copy = actions.add_parser(
        "copy", help="copy every row of one database into another, empty one (e.g. sqlite:///path postgresql://...)"
    )
    copy.add_argument("source", help="sqlite:///path/cronbridge.db, a file path, or a postgresql:// URL")
    copy.add_argument("destination", help="a postgresql:// URL (or sqlite:///path): made and migrated, must be empty")


def _where(parser: argparse.ArgumentParser) -> None:
    """--data-dir and --config are global flags (cli_views/flags.py); --database names a database directly."""
    parser.add_argument("--database", help="postgresql://... or sqlite:///path (default as the server's)")


def run(args: argparse.Namespace) -> int:
    try:
        if args.db_action == "copy":
            return _copy(args.source, args.destination)
        settings = from_environment(config=args.config, data_dir=args.data_dir, database=args.database)
        location = settings.database_url
        if not is_postgresql(location) and not sqlite_path(location).exists():
            print(f"cronbridge db: no database at {sqlite_path(location)}", file=sys.stderr)
            return 1
        with _connection(location) as (conn, dialect):
            if args.db_action == "status":
                return _status(conn, shown(location), dialect)
            if args.db_action == "migrate":
                home = {"account": settings.account_id, "region": settings.region}
                return _migrate(conn, shown(location), dialect, home)
            if dialect == "postgresql":
                return _pg_dump(location, args.destination)
            return _backup(conn, args.destination)
    except (migrations.SchemaTooNew, transfer.CopyRefused) as err:
        print(f"cronbridge db: {err}", file=sys.stderr)
        return 1


@contextlib.contextmanager
def _connection(location: str) -> Iterator[tuple[Any, str]]:
    """A connection of the location's engine (taking `?` placeholders), and the engine's name."""
    if is_postgresql(location):
        from cronbridge.store.postgres import PgConnection, connect

        raw = connect(location)
        try:
            yield PgConnection(raw), "postgresql"
        finally:
            raw.close()
        return
    conn = sqlite3.connect(sqlite_path(location), isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    try:
        yield conn, "sqlite"
    finally:
        conn.close()


def _status(conn: Any, where: str, dialect: str) -> int:
    found = migrations.status(conn, dialect)
    print(f"database: {where}")
    adopted = " (made before versions: adopted on the next start)" if found.unversioned else ""
    print(f"schema version: {found.current}{adopted}")
    print(f"this release: {found.latest}")
    if found.current > found.latest:
        print("newer than this release: refused (upgrade cronbridge)")
        return 1
    for migration in found.pending:
        print(f"pending: {migration.version:04d} {migration.name}")
    if not found.pending:
        print("up to date")
    return 0


def _migrate(conn: Any, where: str, dialect: str, home: dict[str, str]) -> int:
    applied = migrations.upgrade(conn, where, home, dialect)
    for migration in applied:
        print(f"applied: {migration.version:04d} {migration.name}")
    print(f"schema version: {migrations.status(conn, dialect).current}")
    return 0


def _backup(conn: sqlite3.Connection, destination: Path) -> int:
    if destination.exists():
        print(f"cronbridge db: {destination} exists; choose a new file", file=sys.stderr)
        return 1
    destination.parent.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(destination)
    try:
        conn.backup(target)  # page by page, consistent: other connections keep writing meanwhile
    finally:
        target.close()
    print(f"backed up to {destination} (schema version {migrations.status(conn).current})")
    return 0


def _pg_dump(location: str, destination: Path) -> int:
    """PostgreSQL's own consistent dump (one snapshot, while servers keep writing), restored with pg_restore."""
    if destination.exists():
        print(f"cronbridge db: {destination} exists; choose a new file", file=sys.stderr)
        return 1
    dump = _pg_tool("pg_dump")
    if dump is None:
        print("cronbridge db: pg_dump was not found: install PostgreSQL's client programs (Debian: postgresql-client)"
              f" and run: pg_dump --format=custom --file {destination} '{shown(location)}'", file=sys.stderr)
        return 1
    destination.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([dump, "--format=custom", "--file", str(destination), location],
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"cronbridge db: pg_dump failed: {done.stderr.strip()}", file=sys.stderr)
        return 1
    print(f"backed up to {destination} with pg_dump (restore: pg_restore --dbname URL {destination})")
    return 0


def _pg_tool(name: str) -> str | None:
    """A PostgreSQL client program: on PATH, else the newest of Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parent.parent.name))
    return versions[-1] if versions else None


def _copy(source: str, destination: str) -> int:
    if not is_postgresql(source) and not sqlite_path(source).exists():
        print(f"cronbridge db: no database at {sqlite_path(source)}", file=sys.stderr)
        return 1
    copied = transfer.copy(source, destination)
    for table, count in copied.rows.items():
        print(f"{table}: {count} rows")
    if copied.replaced_nul:
        print(f"{copied.replaced_nul} text values held NUL characters, which PostgreSQL's text cannot: each NUL was "
              "written as U+FFFD")
    print(f"copied {shown(source)} to {shown(destination)} ({sum(copied.rows.values())} rows)")
    return 0
