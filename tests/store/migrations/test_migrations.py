"""The versioned schema: a new database gets every migration; a database written by an earlier release (kept here
as a file) opens, is migrated and keeps its state; a newer one is refused with nothing touched; `cronbridge db`."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cronbridge.codec import encode
from cronbridge.config import Settings
from cronbridge.launchers.noop import NoopLauncher
from cronbridge.logs.metric_filters import MetricFilter
from cronbridge.metrics.alarms import Alarm
from cronbridge.model.events import EventBus, Rule, Target
from cronbridge.scope import Scope
from cronbridge.store import migrations
from cronbridge.store.db import SqliteDatabase
from cronbridge.system import System

DATA = Path(__file__).parent / "data"
# every release's database, made by that release's server and `populate.py`; a later release must open them all
RELEASES = sorted(DATA.glob("release-*.db"))


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return migrations.status(conn).current
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_migrations_are_numbered_in_sequence_from_one() -> None:
    found = migrations.migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))


def test_a_new_database_gets_every_migration(tmp_path: Path) -> None:
    SqliteDatabase(tmp_path / "new.db").close()
    assert version_of(tmp_path / "new.db") == migrations.migrations()[-1].version


def test_opening_an_up_to_date_database_applies_nothing(tmp_path: Path) -> None:
    SqliteDatabase(tmp_path / "db").close()
    conn = sqlite3.connect(tmp_path / "db", isolation_level=None)
    assert migrations.upgrade(conn, "db", {"account": "000000000000", "region": "us-east-1"}) == []


@pytest.mark.parametrize("release", RELEASES, ids=lambda p: p.stem)
def test_a_database_of_an_earlier_release_is_migrated_and_keeps_its_state(tmp_path: Path, release: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(release, data / "cronbridge.db")
    system = System(Settings(data_dir=data, auth="open"), launcher=NoopLauncher())
    here = system.home  # the release knew one Region: the server's own (us-east-1 by default)
    try:
        assert version_of(data / "cronbridge.db") == migrations.migrations()[-1].version
        assert system.events.rule(here, "every-30").schedule_expression == "cron(*/30 * * * ? *)"
        assert [t.id for t in system.events.targets(here, "every-30")] == ["batch"]
        assert system.schedules.get(here, None, "nightly").schedule_expression == "cron(0 2 * * ? *)"
        cluster = system.ecs.cluster(here, "batch")
        [arn] = system.ecs.tasks.list_arns(cluster.cluster_arn)
        task = system.ecs.tasks.get(arn)
        assert task is not None and task.last_status == "STOPPED" and task.containers[0].exit_code == 0
        assert system.ecs.task_definition(here, "batch").revision == 1
        assert system.identity.get_role("exec").arn.endswith(":role/exec")
        messages = system.logs.at(here).get_events("/ecs/batch", "manual", limit=10).events
        assert [e.message for e in messages] == [f"line {i}" for i in range(5)]
        assert system.sqs.at(here).queue("dead-letters").arn.endswith(":dead-letters")
        assert system.scheduler.log.of_rule(system.events.rule(here, "every-30").arn)
        elsewhere = Scope(here.account, "eu-west-1")
        assert system.events.find(elsewhere, "every-30") is None
        assert not system.logs.at(elsewhere).group_exists("/ecs/batch")
        assert system.ecs.list_clusters(elsewhere) == []
    finally:
        system.close()


@pytest.mark.parametrize("release", RELEASES, ids=lambda p: p.stem)
def test_state_without_an_arn_moves_to_the_servers_own_region_and_the_rest_stays_where_its_arn_says(
    tmp_path: Path, release: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(release, data / "cronbridge.db")
    system = System(Settings(data_dir=data, auth="open", region="eu-west-1"), launcher=NoopLauncher())
    try:
        assert system.logs.at(system.home).group_exists("/ecs/batch")  # log groups had no ARN of their own
        first = Scope(system.home.account, "us-east-1")  # where the release made the rest (its ARNs say so)
        assert system.events.rule(first, "every-30").arn.startswith("arn:aws:events:us-east-1:")
        assert system.events.find(system.home, "every-30") is None
        assert system.sqs.at(first).queue("dead-letters").arn == "arn:aws:sqs:us-east-1:000000000000:dead-letters"
        registered = system.ecs.register(first, system.ecs.task_definition(first, "batch"))
        assert registered.revision == 2  # the family's revisions go on where they were
    finally:
        system.close()


def test_a_database_of_a_newer_release_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "db"
    SqliteDatabase(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (999, 'from_the_future', 0)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(migrations.SchemaTooNew, match="newer than this cronbridge knows"):
        SqliteDatabase(path)
    assert digest(path) == before


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cronbridge", "db", *args], capture_output=True, text=True,
                          timeout=60)


def test_db_status_migrate_and_backup_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(RELEASES[0], data / "cronbridge.db")
    status = cli("status", "--data-dir", str(data))
    assert status.returncode == 0 and "schema version: 0 (made before versions" in status.stdout
    assert "pending: 0001 initial" in status.stdout
    migrated = cli("migrate", "--data-dir", str(data))
    assert migrated.returncode == 0 and "applied: 0001 initial" in migrated.stdout
    assert "up to date" in cli("status", "--data-dir", str(data)).stdout
    backup = cli("backup", str(tmp_path / "copy.db"), "--data-dir", str(data))
    assert backup.returncode == 0, backup.stderr
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT count(*) FROM log_events").fetchone()[0] == 6


def test_a_backup_taken_while_a_server_writes_is_consistent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    system = System(Settings(data_dir=data, auth="open"), launcher=NoopLauncher())
    try:
        logs = system.logs.at(system.home)
        logs.create_group("/busy")
        logs.ensure_stream("/busy", "s")
        for batch in range(20):
            logs.append("/busy", "s", [(1_700_000_000_000 + batch * 100 + i, f"m{i}") for i in range(100)])
            if batch == 10:
                assert cli("backup", str(tmp_path / "mid.db"), "--data-dir", str(data)).returncode == 0
        copy = sqlite3.connect(tmp_path / "mid.db")
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM log_events").fetchone()[0] % 100 == 0
    finally:
        system.close()


def database_at_version(path: Path, version: int) -> sqlite3.Connection:
    """A database as the release whose latest migration was `version` left it (the later ones not applied)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(migrations.VERSION_TABLE["sqlite"])
    for migration in migrations.migrations()[:version]:
        for statement in migrations._statements(migration.sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, ?, 0)", (migration.version, migration.name))
    return conn


def put_document(conn: sqlite3.Connection, kind: str, key: str, value: object, parent: str = "") -> None:
    """A document as releases before Regions stored it: by kind and key alone."""
    body = json.dumps(encode(value), separators=(",", ":"))
    seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM documents").fetchone()[0]
    conn.execute("INSERT INTO documents (kind, key, parent, seq, body) VALUES (?, ?, ?, ?, ?)",
                 (kind, key, parent, seq, body))


def test_buses_pattern_rules_alarms_and_their_history_move_where_their_arns_say_and_the_rest_to_the_servers_own(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    conn = database_at_version(data / "cronbridge.db", 5)  # routing, alarms, Insights, outcomes, deliveries: no Regions
    east = "arn:aws:events:us-east-1:000000000000"
    put_document(conn, "events.bus", "orders", EventBus("orders", f"{east}:event-bus/orders"))
    put_document(conn, "events.rule", "orders\x01big", Rule(name="big", arn=f"{east}:rule/orders/big",
                                                             event_pattern='{"source": ["shop"]}',
                                                             event_bus_name="orders"), parent="orders")
    put_document(conn, "events.target", "orders\x01big\x00q", Target(id="q", arn="arn:aws:sqs:us-east-1:0:q"),
                 parent="orders\x01big")
    alarm_arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors"
    put_document(conn, "cloudwatch.alarm", "errors", Alarm(alarm_name="errors", alarm_arn=alarm_arn,
                                                           namespace="Batch", metric_name="Errors",
                                                           statistic="Sum"))
    conn.execute("INSERT INTO alarm_history (alarm_name, at, kind, summary, data) VALUES"
                 " ('errors', 1, 'StateUpdate', 'to ALARM', '{}'), ('gone', 1, 'StateUpdate', 'to OK', '{}')")
    conn.execute("INSERT INTO log_groups (name, creation_time, log_group_class) VALUES ('/ecs/batch', 0, 'STANDARD')")
    filter_ = MetricFilter("errors", "/ecs/batch", "ERROR", [{"metricName": "Errors", "metricNamespace": "Batch",
                                                             "metricValue": "1"}])
    put_document(conn, "logs.metric_filter", "/ecs/batch\x00errors", filter_, parent="/ecs/batch")
    conn.execute("INSERT INTO insights_queries (id, created, query, groups, start_ms, end_ms, status)"
                 " VALUES ('q1', 1, 'fields @message', '[\"/ecs/batch\"]', 0, 1, 'Complete')")
    conn.close()
    system = System(Settings(data_dir=data, auth="open", region="eu-west-1"), launcher=NoopLauncher())
    try:
        first, home = Scope("000000000000", "us-east-1"), system.home
        assert system.events.bus(first, "orders").arn == f"{east}:event-bus/orders"
        assert not system.events.bus_exists(home, "orders")
        assert system.events.rule(first, "big", "orders").event_pattern == '{"source": ["shop"]}'
        assert [t.id for t in system.events.targets(first, "big", "orders")] == ["q"]
        assert system.events.rule_of_arn(f"{east}:rule/orders/big") is not None
        assert system.alarms.alarm(first, "errors").alarm_arn == alarm_arn
        assert system.alarms.describe(home) == []
        history = system.alarms.history.items(first, None, None, 0, 10, 10, None)
        assert [i.alarm_name for _, i in history] == ["errors"]  # its alarm's Region
        assert [i.alarm_name for _, i in system.alarms.history.items(home, None, None, 0, 10, 10, None)] == ["gone"]
        assert [f.filter_name for f in system.logs.at(home).filters.describe("/ecs/batch")] == ["errors"]
        assert system.insights.results(home, "q1").status == "Complete"
        assert [q.id for q in system.insights.describe(first, None, None, 10, None)] == []
    finally:
        system.close()
