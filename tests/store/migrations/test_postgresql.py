"""The versioned schema on PostgreSQL: the same numbered migrations as SQLite's, applied once however many servers
start at once, a newer schema refused; `cronbridge db status|migrate|backup|copy` against a real PostgreSQL, and a
release's SQLite database moved to PostgreSQL with `db copy` keeping its state."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cronbridge.config import Settings
from cronbridge.launchers.noop import NoopLauncher
from cronbridge.scope import Scope
from cronbridge.store import migrations
from cronbridge.store.database import open_database
from cronbridge.system import System
from fixtures.postgres import Cluster

DATA = Path(__file__).parent / "data"
RELEASE = sorted(DATA.glob("release-*.db"))[0]


@pytest.fixture
def empty_url(postgres_cluster: Cluster) -> Iterator[str]:
    """A database with nothing in it (not even the schema)."""
    url = postgres_cluster.create_database(template="template0")
    yield url
    postgres_cluster.drop_database(url)


def version_of(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        return int(row[0]) if row else 0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cronbridge", "db", *args], capture_output=True, text=True,
                          timeout=120)


def test_both_engines_have_the_same_numbered_migrations() -> None:
    names = {d: [(m.version, m.name) for m in migrations.migrations(d)] for d in ("sqlite", "postgresql")}
    assert names["sqlite"] == names["postgresql"]


def test_servers_starting_at_once_on_a_new_database_migrate_it_once(empty_url: str) -> None:
    opened: list[object] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(open_database(empty_url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(opened) == 4
    with psycopg.connect(empty_url) as conn:
        rows = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [m.version for m in migrations.migrations("postgresql")]
    for db in opened:
        db.close()  # type: ignore[attr-defined]


def test_a_newer_postgresql_schema_is_refused_and_left_untouched(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999, 'from_the_future', 0)")
    with pytest.raises(migrations.SchemaTooNew, match="newer than this cronbridge knows"):
        open_database(postgres_url)
    assert version_of(postgres_url) == 999


def test_db_status_and_migrate_on_postgresql(empty_url: str) -> None:
    status = cli("status", "--database", empty_url)
    assert status.returncode == 0, status.stderr
    assert "schema version: 0" in status.stdout and "pending: 0001 initial" in status.stdout
    migrated = cli("migrate", "--database", empty_url)
    assert migrated.returncode == 0 and "applied: 0001 initial" in migrated.stdout, migrated.stderr
    assert "up to date" in cli("status", "--database", empty_url).stdout
    assert version_of(empty_url) == migrations.migrations("postgresql")[-1].version


def test_a_release_database_moves_to_postgresql_and_back_with_db_copy(
    tmp_path: Path, empty_url: str, postgres_url: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(RELEASE, data / "cronbridge.db")
    source = f"sqlite://{data / 'cronbridge.db'}"
    refused = cli("copy", source, empty_url)
    assert refused.returncode == 1 and "migrate it first" in refused.stderr  # an old file is not copied half-known
    assert cli("migrate", "--database", source).returncode == 0
    moved = cli("copy", source, postgres_url)
    assert moved.returncode == 0, moved.stderr
    assert "log_events: 6 rows" in moved.stdout and "copied" in moved.stdout
    again = cli("copy", source, postgres_url)
    assert again.returncode == 1 and "already holds data" in again.stderr  # nothing is merged into live state

    system = System(Settings(data_dir=tmp_path / "pg", auth="open", database=postgres_url), launcher=NoopLauncher())
    here = system.home  # the release knew one Region: the server's own (us-east-1 by default)
    try:  # the state, as a server on PostgreSQL sees it
        assert system.events.rule(here, "every-30").schedule_expression == "cron(*/30 * * * ? *)"
        assert [t.id for t in system.events.targets(here, "every-30")] == ["batch"]  # keys joined by NUL in SQLite
        assert system.schedules.get(here, None, "nightly").schedule_expression == "cron(0 2 * * ? *)"
        cluster = system.ecs.cluster(here, "batch")
        [arn] = system.ecs.tasks.list_arns(cluster.cluster_arn)
        task = system.ecs.tasks.get(arn)
        assert task is not None and task.last_status == "STOPPED"
        assert system.identity.get_role("EXEC").arn.endswith(":role/exec")  # names compared without case
        messages = system.logs.at(here).get_events("/ecs/batch", "manual", limit=10).events
        assert [e.message for e in messages] == [f"line {i}" for i in range(5)]
        assert system.sqs.at(here).queue("dead-letters").arn.endswith(":dead-letters")
        before = len(system.scheduler.log.of_rule(system.events.rule(here, "every-30").arn))
        system.logs.at(here).append("/ecs/batch", "manual", [(1_900_000_000_000, "after the move")])  # ids go on
        assert before > 0
        assert system.events.find(Scope(here.account, "eu-west-1"), "every-30") is None  # one Region's rules
    finally:
        system.close()

    back = tmp_path / "back.db"
    returned = cli("copy", postgres_url, f"sqlite://{back}")
    assert returned.returncode == 0, returned.stderr
    conn = sqlite3.connect(back)
    try:
        assert conn.execute("SELECT COUNT(*) FROM log_events").fetchone()[0] == 7
        keys = [r[0] for r in conn.execute("SELECT key FROM documents WHERE kind = 'events.target'")]
        assert keys and all("\x00" in k for k in keys)  # SQLite's own spelling again
    finally:
        conn.close()


def test_db_backup_of_postgresql_is_a_pg_dump_archive(tmp_path: Path, postgres_url: str) -> None:
    db = open_database(postgres_url)
    db.execute("INSERT INTO meta (name, value) VALUES ('marker', 'kept')")
    db.close()
    archive = tmp_path / "backup.dump"
    done = cli("backup", str(archive), "--database", postgres_url)
    assert done.returncode == 0, done.stderr
    listing = subprocess.run([str(Path(shutil.which("pg_restore") or _debian("pg_restore"))), "--list", str(archive)],
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and "TABLE DATA public meta" in listing.stdout


def _debian(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    assert found, f"{name} is not installed"
    return str(found[-1])
