"""ECS task state changes as they happened: one row per transition, the task's state at that moment as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cronbridge.codec import decode, encode
from cronbridge.model.ecs import Task
from cronbridge.store.db import Database, schema

schema(
    """
    CREATE TABLE IF NOT EXISTS task_events (
        id INTEGER PRIMARY KEY, at REAL NOT NULL, source TEXT NOT NULL, task_arn TEXT NOT NULL, body TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS task_events_task ON task_events (task_arn, id);
    CREATE INDEX IF NOT EXISTS task_events_at ON task_events (at);
    """
)
SOURCE = "aws.ecs"


@dataclass(frozen=True)
class TaskEvent:
    """The task as it was right after one transition."""

    id: int
    at: float
    task: Task


class TaskEventLog:
    """Appends each transition; lists them oldest first; forgets the old ones."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, task: Task, at: float) -> None:
        self.write([(at, SOURCE, task.task_arn, json.dumps(encode(task), separators=(",", ":")))])

    def write(self, events: Sequence[tuple[float, str, str, str]]) -> None:
        """Append (at, source, task ARN, JSON body) records, in order."""
        with self.db.lock:
            self.db.conn.executemany("INSERT INTO task_events (at, source, task_arn, body) VALUES (?,?,?,?)", events)

    def list(self, task_arn: str | None = None, after_id: int = 0, limit: int = 100) -> list[TaskEvent]:
        self.db.settle()
        sql = "SELECT id, at, body FROM task_events WHERE id > ?"
        params: list[object] = [after_id]
        if task_arn:
            sql += " AND task_arn = ?"
            params.append(task_arn)
        rows = self.db.query(sql + " ORDER BY id LIMIT ?", [*params, limit])
        return [TaskEvent(r["id"], r["at"], decode(Task, json.loads(r["body"]))) for r in rows]

    def expire(self, before: float) -> int:
        return self.db.execute("DELETE FROM task_events WHERE at < ?", (before,))
