"""Write-behind of task lifecycle steps on both engines: durable steps are on disk when write returns, deferred
ones reach it within milliseconds, every reader sees the latest step, and every step keeps its event record."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from cronbridge.model.ecs import Task, TaskStatus
from cronbridge.store.database import Database, open_database
from cronbridge.store.task_events import TaskEventLog
from cronbridge.store.task_outcomes import TaskOutcomes
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


def on_disk(path: str) -> str | None:
    """The task's status as another process would read it (its own connection to the database)."""
    other = open_database(path)
    try:
        row = other.one("SELECT last_status FROM tasks WHERE arn = ?", (ARN,))
        return None if row is None else str(row["last_status"])
    finally:
        other.close()


def writes_on(path: str, interval: float = 0.005) -> tuple[Database, TaskStore, TaskEventLog, TaskWrites]:
    db = open_database(path)
    tasks, events = TaskStore(db), TaskEventLog(db)
    return db, tasks, events, TaskWrites(db, tasks, events, TaskOutcomes(db), interval=interval)


def test_a_durable_step_is_on_disk_when_write_returns(database_location: str) -> None:
    path = database_location
    _db, _tasks, _events, writes = writes_on(path, interval=60)
    writes.write(a_task(TaskStatus.PROVISIONING), 1.0, durable=True)
    assert on_disk(path) == "PROVISIONING"


def test_a_deferred_step_is_seen_by_readers_at_once_and_reaches_the_disk_within_the_interval(
    database_location: str,
) -> None:
    path = database_location
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


def test_every_step_keeps_its_event_in_order_while_the_row_keeps_the_latest(database_location: str) -> None:
    path = database_location
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


def test_a_durable_step_commits_the_deferred_steps_before_it(database_location: str) -> None:
    path = database_location
    _db, _tasks, _events, writes = writes_on(path, interval=60)  # the writer thread would wait a minute
    other = dataclasses.replace(a_task(TaskStatus.PENDING), task_arn=ARN.replace("0123", "9999"))
    writes.write(other, 1.0, durable=False)
    writes.write(a_task(TaskStatus.STOPPED), 2.0, durable=True)
    reader = open_database(path)
    try:
        rows = reader.query("SELECT task_arn FROM task_events ORDER BY id")
        assert [r["task_arn"] for r in rows] == [other.task_arn, ARN]
    finally:
        reader.close()


def test_close_commits_what_waits(database_location: str) -> None:
    path = database_location
    db, _tasks, _events, writes = writes_on(path, interval=60)
    writes.write(a_task(TaskStatus.PENDING), 1.0, durable=False)
    writes.close()
    db.close()
    assert on_disk(path) == "PENDING"


def test_durable_steps_of_many_threads_are_each_on_disk_when_their_write_returns(database_location: str) -> None:
    path = database_location
    _db, _tasks, _events, writes = writes_on(path, interval=60)
    readers = [open_database(path) for _ in range(2)]
    missing: list[str] = []

    def run(index: int) -> None:
        arn = ARN.replace("0123456789abcdef", f"{index:016x}", 1)
        writes.write(dataclasses.replace(a_task(TaskStatus.RUNNING), task_arn=arn), 1.0, durable=True)
        if readers[index % len(readers)].one("SELECT 1 FROM tasks WHERE arn = ?", (arn,)) is None:
            missing.append(arn)  # another process's view of the database does not have it

    threads = [threading.Thread(target=run, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for reader in readers:
        reader.close()
    assert missing == []


def test_a_durable_step_inside_a_transaction_stands_or_falls_with_it(database_location: str) -> None:
    path = database_location
    db, _tasks, _events, writes = writes_on(path, interval=60)
    with pytest.raises(ValueError), db.transaction():
        writes.write(a_task(TaskStatus.PROVISIONING), 1.0, durable=True)
        raise ValueError("the RunTask's transaction failed")
    assert on_disk(path) is None
    with db.transaction():
        writes.write(a_task(TaskStatus.PROVISIONING), 1.0, durable=True)
    assert on_disk(path) == "PROVISIONING"


class Boom(Exception):
    """An error that rolls back the transaction it escapes."""


def test_a_durable_step_taken_by_a_transaction_that_rolls_back_is_written_again(database_location: str) -> None:
    """The deadlock of issue 13: a reader's settle() inside another transaction took a waiting durable step, then that
    transaction rolled back; the step vanished from memory and from disk, and its waiter slept forever."""
    path = database_location
    db, _tasks, events, writes = writes_on(path, interval=0.005)
    waiter_done = threading.Event()

    def durable_step() -> None:
        writes.write(a_task(TaskStatus.RUNNING), 1.0, durable=True)
        waiter_done.set()

    with pytest.raises(Boom), db.transaction():  # another thread's transaction holds the database
        waiter = threading.Thread(target=durable_step, daemon=True)
        waiter.start()
        deadline = time.monotonic() + 5
        while not writes._pending and time.monotonic() < deadline:  # the step waits in the queue
            time.sleep(0.001)
        db.settle()  # a read inside the transaction commits what waits: the step joins this transaction
        raise Boom
    assert waiter_done.wait(10), "the durable step's writer never woke up"
    assert on_disk(path) == "RUNNING"
    assert [e.task.last_status for e in events.list(ARN)] == [TaskStatus.RUNNING]


def test_steps_taken_by_a_savepoint_that_rolls_back_go_back_to_the_queue(database_location: str) -> None:
    path = database_location
    db, _tasks, _events, writes = writes_on(path, interval=60)
    writes.write(a_task(TaskStatus.PENDING), 1.0, durable=False)
    with db.transaction(), pytest.raises(Boom), db.savepoint():
        db.settle()
        raise Boom
    if db.dialect.name == "sqlite":  # the settle joined the savepoint: its rollback undid it, the step waits again
        assert on_disk(path) is None
    else:  # PostgreSQL commits write-behind steps apart from the reader's transaction: nothing to undo
        assert on_disk(path) == "PENDING"
    db.settle()
    assert on_disk(path) == "PENDING"
