"""The console's read queries on a real SQLite file: newest-first task pages by cursor, never skipping or repeating."""

from __future__ import annotations

from pathlib import Path

from cronbridge.model.ecs import Task, TaskStatus
from cronbridge.store.db import Database
from cronbridge.store.tasks import TaskStore
from cronbridge.store.views import Views

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


def test_task_pages_cover_every_task_once_newest_first_even_with_equal_creation_times(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
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


def test_running_count_counts_only_tasks_meant_to_run(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    store = TaskStore(db)
    store.save(task(1, 1.0, TaskStatus.RUNNING))
    store.save(task(2, 2.0, TaskStatus.PENDING))
    store.save(task(3, 3.0))
    assert Views(db).running_count(CLUSTER) == 2


def test_the_read_indexes_exist_and_are_used(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    Views(db)
    plan = db.query("EXPLAIN QUERY PLAN SELECT body FROM tasks ORDER BY created_at DESC, arn DESC LIMIT 5")
    assert "tasks_created" in plan[0]["detail"]
    plan = db.query(
        "EXPLAIN QUERY PLAN SELECT * FROM invocations WHERE rule_name = ? AND id < ? ORDER BY id DESC LIMIT 5",
        ("r", 10),
    )
    assert "invocations_rule_id" in plan[0]["detail"]
