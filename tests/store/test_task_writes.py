"""Write-behind of task lifecycle steps on a real SQLite file: durable steps are on disk when write returns, deferred
ones reach it within milliseconds, every reader sees the latest step, and every step keeps its event record."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from cronbridge.model.ecs import Task, TaskStatus
from cronbridge.store.db import Database
from cronbridge.store.task_events import TaskEventLog
from cronbridge.store.task_writes import TaskWrites
from cronbridge.store.tasks import TaskStore
from cronbridge.store.views import Views

ARN = "arn:aws:ecs:us-east-1:000000000000:task/c/0123456789abcdef0123456789abcdef"
CLUSTER = "arn:aws:ecs:us-east-1:000000000000:cluster/c"


def a_task(status: TaskStatus) -> Task:
    return Task(
        task_arn=ARN,
        cluster_arn=CLUSTER,
        task_definition_arn="arn:aws:ecs:us-east-1:000000000000:task-definition/f:1",
        last_status=status,
        created_at=1000.0,
    )


def on_disk(path: Path) -> str | None:
    """The task's status as another process would read it (its own connection to the file)."""
    other = Database(path)
    try:
        row = other.one("SELECT last_status FROM tasks WHERE arn = ?", (ARN,))
        return None if row is None else str(row["last_status"])
    finally:
        other.close()


def writes_on(path: Path, interval: float = 0.005) -> tuple[Database, TaskStore, TaskEventLog, TaskWrites]:
    db = Database(path)
    tasks, events = TaskStore(db), TaskEventLog(db)
    return db, tasks, events, TaskWrites(db, tasks, events, interval=interval)


def test_a_durable_step_is_on_disk_when_write_returns(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _db, _tasks, _events, writes = writes_on(path, interval=60)
    writes.write(a_task(TaskStatus.PROVISIONING), 1.0, durable=True)
    assert on_disk(path) == "PROVISIONING"


def test_a_deferred_step_is_seen_by_readers_at_once_and_reaches_the_disk_within_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    db, tasks, _events, writes = writes_on(path)
    writes.write(a_task(TaskStatus.PROVISIONING), 1.0, durable=True)
    writes.write(a_task(TaskStatus.PENDING), 2.0, durable=False)
    deadline = time.monotonic() + 5
    while on_disk(path) != "PENDING":
        assert time.monotonic() < deadline, "the deferred step never reached the file"
        time.sleep(0.01)
    writes.write(a_task(TaskStatus.ACTIVATING), 3.0, durable=False)
    found = tasks.get(ARN)
    assert found is not None and found.last_status is TaskStatus.ACTIVATING  # the reader flushed first
    assert Views(db).tasks()[0].last_status is TaskStatus.ACTIVATING


def test_every_step_keeps_its_event_in_order_while_the_row_keeps_the_latest(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _db, tasks, events, writes = writes_on(path, interval=60)
    steps = [TaskStatus.PROVISIONING, TaskStatus.PENDING, TaskStatus.ACTIVATING, TaskStatus.RUNNING]
    steps += [TaskStatus.DEACTIVATING, TaskStatus.STOPPING, TaskStatus.DEPROVISIONING, TaskStatus.STOPPED]
    for i, status in enumerate(steps):
        writes.write(a_task(status), float(i), durable=status in (TaskStatus.RUNNING, TaskStatus.STOPPED))
    assert [e.task.last_status for e in events.list(ARN)] == steps
    assert [e.at for e in events.list(ARN)] == [float(i) for i in range(len(steps))]
    found = tasks.get(ARN)
    assert found is not None and found.last_status is TaskStatus.STOPPED
    assert on_disk(path) == "STOPPED"


def test_a_durable_step_commits_the_deferred_steps_before_it(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _db, _tasks, _events, writes = writes_on(path, interval=60)  # the writer thread would wait a minute
    other = dataclasses.replace(a_task(TaskStatus.PENDING), task_arn=ARN.replace("0123", "9999"))
    writes.write(other, 1.0, durable=False)
    writes.write(a_task(TaskStatus.STOPPED), 2.0, durable=True)
    reader = Database(path)
    try:
        rows = reader.query("SELECT task_arn FROM task_events ORDER BY id")
        assert [r["task_arn"] for r in rows] == [other.task_arn, ARN]
    finally:
        reader.close()


def test_close_commits_what_waits(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    db, _tasks, _events, writes = writes_on(path, interval=60)
    writes.write(a_task(TaskStatus.PENDING), 1.0, durable=False)
    writes.close()
    db.close()
    assert on_disk(path) == "PENDING"


def test_durable_steps_of_many_threads_are_each_on_disk_when_their_write_returns(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _db, _tasks, _events, writes = writes_on(path, interval=60)
    missing: list[str] = []

    def run(index: int) -> None:
        arn = ARN.replace("0123456789abcdef", f"{index:016x}", 1)
        writes.write(dataclasses.replace(a_task(TaskStatus.RUNNING), task_arn=arn), 1.0, durable=True)
        other = sqlite3.connect(path)  # another process's view of the file
        try:
            if other.execute("SELECT 1 FROM tasks WHERE arn = ?", (arn,)).fetchone() is None:
                missing.append(arn)
        finally:
            other.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert missing == []


def test_a_durable_step_inside_a_transaction_stands_or_falls_with_it(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    db, _tasks, _events, writes = writes_on(path, interval=60)
    with pytest.raises(ValueError), db.transaction():
        writes.write(a_task(TaskStatus.PROVISIONING), 1.0, durable=True)
        raise ValueError("the RunTask's transaction failed")
    assert on_disk(path) is None
    with db.transaction():
        writes.write(a_task(TaskStatus.PROVISIONING), 1.0, durable=True)
    assert on_disk(path) == "PROVISIONING"
