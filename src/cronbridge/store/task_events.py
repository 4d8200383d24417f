"""ECS task state changes as they happened: one row per transition, the task's state at that moment as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cronbridge.codec import decode, encode
from cronbridge.model.ecs import Task
from cronbridge.scope import Scope
from cronbridge.store.database import Database, arn_like

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
        self.db.executemany("INSERT INTO task_events (at, source, task_arn, body) VALUES (?,?,?,?)", events)

    def list(
        self, task_arn: str | None = None, after_id: int = 0, limit: int = 100, scope: Scope | None = None
    ) -> list[TaskEvent]:
        """Transitions after an id, oldest first: of one task, or of the tasks of `scope` (or of all)."""
        self.db.settle()
        sql = "SELECT id, at, body FROM task_events WHERE id > ?"
        params: list[object] = [after_id]
        if task_arn:
            sql += " AND task_arn = ?"
            params.append(task_arn)
        if scope is not None:
            sql += " AND task_arn LIKE ? ESCAPE '\\'"
            params.append(arn_like(scope, "ecs"))
        rows = self.db.query(sql + " ORDER BY id LIMIT ?", [*params, limit])
        return [TaskEvent(r["id"], r["at"], decode(Task, json.loads(r["body"]))) for r in rows]

    def last_id(self) -> int:
        """The id of the newest transition recorded (0 when there is none)."""
        self.db.settle()
        row = self.db.one("SELECT MAX(id) AS last FROM task_events")
        return int(row["last"]) if row is not None and row["last"] is not None else 0

    def expire(self, before: float) -> int:
        return self.db.execute("DELETE FROM task_events WHERE at < ?", (before,))
