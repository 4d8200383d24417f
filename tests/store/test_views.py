"""The console's read queries on both engines: newest-first task pages by cursor, never skipping or repeating."""

from __future__ import annotations

from pathlib import Path

from cronbridge.model.ecs import Container, StopCode, Task, TaskStatus
from cronbridge.store.database import open_database
from cronbridge.store.db import SqliteDatabase
from cronbridge.store.invocations import Claim, InvocationLog, Outcome
from cronbridge.store.task_outcomes import TaskOutcomes, outcome_row
from cronbridge.store.tasks import TaskStore
from cronbridge.store.views import TaskFilter, Views

CLUSTER = "arn:aws:ecs:us-east-1:000000000000:cluster/c"


def task(i: int, created: float, status: TaskStatus = TaskStatus.STOPPED) -> Task:
    return Task(
        task_arn=f"arn:aws:ecs:us-east-1:000000000000:task/c/{i:032x}",
        cluster_arn=CLUSTER,
        task_definition_arn="arn:aws:ecs:us-east-1:000000000000:task-definition/f:1",
        last_status=status,
        desired_status="STOPPED" if status is TaskStatus.STOPPED else "RUNNING",
        created_at=created,
    )


def test_task_pages_cover_every_task_once_newest_first_even_with_equal_creation_times(database_location: str) -> None:
    db = open_database(database_location)
    store, views = TaskStore(db), Views(db)
    for i in range(23):
        store.save(task(i, 1000.0 + i // 4))  # four tasks share each creation time
    seen: list[str] = []
    cursor = None
    while True:
        page = views.tasks(cursor, limit=5)
        seen.extend(t.task_arn for t in page)
        if len(page) < 5:
            break
        cursor = (page[-1].created_at or 0.0, page[-1].task_arn)
    assert len(seen) == 23 and len(set(seen)) == 23
    keys = [(t.created_at, t.task_arn) for t in (views.task(arn) for arn in seen) if t is not None]
    assert keys == sorted(keys, reverse=True)


def test_running_count_counts_only_tasks_meant_to_run(database_location: str) -> None:
    db = open_database(database_location)
    store = TaskStore(db)
    store.save(task(1, 1.0, TaskStatus.RUNNING))
    store.save(task(2, 2.0, TaskStatus.PENDING))
    store.save(task(3, 3.0))
    assert Views(db).running_count(CLUSTER) == 2


def test_the_read_indexes_exist_and_are_used(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "db.sqlite")
    Views(db)
    plan = db.query("EXPLAIN QUERY PLAN SELECT body FROM tasks ORDER BY created_at DESC, arn DESC LIMIT 5")
    assert "tasks_created" in plan[0]["detail"]
    plan = db.query(
        "EXPLAIN QUERY PLAN SELECT * FROM invocations WHERE rule_name = ? AND id < ? ORDER BY id DESC LIMIT 5",
        ("r", 10),
    )
    assert "invocations_rule_id" in plan[0]["detail"]


def test_a_slot_whose_task_failed_counts_as_failed_in_its_bucket(database_location: str) -> None:
    db = open_database(database_location)
    log, outcomes = InvocationLog(db), TaskOutcomes(db)
    arn = "arn:aws:events:us-east-1:000000000000:rule/r"
    ok, failed, refused = (log.claim_slot(arn, "r", 60.0 * i, [Claim("a", f"t{i}")], fired_at=60.0 * i)[0]
                           for i in (1, 2, 3))
    log.complete(ok.id, 61.0, Outcome("SUCCEEDED", (task(1, 1.0).task_arn,)))
    log.complete(failed.id, 121.0, Outcome("SUCCEEDED", (task(2, 2.0).task_arn,)))
    log.complete(refused.id, 181.0, Outcome("FAILED", (), "ClientException", "no"))
    stopped = task(2, 2.0)
    stopped.started_at, stopped.stopped_at = 125.0, 130.0
    stopped.stop_code = StopCode.ESSENTIAL_CONTAINER_EXITED
    stopped.containers = [Container(name="app", exit_code=3, last_status="STOPPED")]
    row = outcome_row(stopped)
    assert row is not None
    outcomes.write([row])
    buckets = Views(db).buckets(arn, 0.0, 60.0)  # one bucket a minute: the task failed in the second
    assert [(b.start, b.total, b.failed) for b in buckets] == [(60.0, 1, 0), (120.0, 1, 1), (180.0, 1, 1)]


def test_task_filters_search_without_regard_to_case_on_both_engines(database_location: str) -> None:
    db = open_database(database_location)
    store, views = TaskStore(db), Views(db)
    for i in range(3):
        made = task(i, float(i), TaskStatus.RUNNING)
        made.started_by = "events-rule/Nightly" if i == 1 else "me"
        store.save(made)
    found = views.tasks(where=TaskFilter(search="NIGHTLY"))
    assert [t.task_arn for t in found] == [task(1, 1.0).task_arn]
    assert len(views.tasks(where=TaskFilter(cluster="C"))) == 3  # the cluster's name, any case
    assert views.task_of_cluster_name("c", f"{2:032x}") is not None
