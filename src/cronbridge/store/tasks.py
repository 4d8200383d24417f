"""ECS tasks: one row per task with indexed columns for listing, the task itself as a JSON body."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cronbridge.codec import decode, encode
from cronbridge.model.ecs import Task
from cronbridge.store.database import Database

TOKEN_SECONDS = 86400.0  # how long ECS honours a RunTask clientToken


_UPSERT = (
    "INSERT INTO tasks (arn, cluster, family, last_status, desired_status, started_by, created_at,"
    " stopped_at, client_token, body) VALUES (?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT (arn) DO UPDATE SET last_status=excluded.last_status,"
    " desired_status=excluded.desired_status, stopped_at=excluded.stopped_at, body=excluded.body"
)


def task_row(task: Task, body: str) -> tuple[Any, ...]:
    """The tasks row of a task whose JSON body is already encoded."""
    return (
        task.task_arn, task.cluster_arn, _family(task.task_definition_arn), task.last_status.value,
        task.desired_status, task.started_by, task.created_at or 0.0, task.stopped_at, task.client_token, body,
    )


def _family(task_definition_arn: str) -> str:
    return task_definition_arn.rsplit("/", 1)[-1].split(":", 1)[0]


class TaskStore:
    """Tasks by ARN, listable by cluster, family, startedBy and desired status."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, task: Task) -> None:
        self.write_rows([task_row(task, json.dumps(encode(task), separators=(",", ":")))])

    def write_rows(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert or update tasks from rows built by task_row (one statement for all of them); a task that stopped
        has no owner any more."""
        stopped = [(row[0],) for row in rows if row[3] == "STOPPED"]
        with self.db.transaction() as conn:
            conn.executemany(_UPSERT, rows)
            if stopped:
                conn.executemany("DELETE FROM task_owners WHERE task_arn = ?", stopped)

    def get(self, arn: str) -> Task | None:
        self.db.settle()
        row = self.db.one("SELECT body FROM tasks WHERE arn = ?", (arn,))
        return None if row is None else decode(Task, json.loads(row["body"]))

    def get_many(self, arns: Sequence[str]) -> list[Task]:
        self.db.settle()
        if not arns:
            return []
        marks = ",".join("?" * len(arns))
        rows = self.db.query(f"SELECT body FROM tasks WHERE arn IN ({marks})", list(arns))
        return [decode(Task, json.loads(r["body"])) for r in rows]

    def bodies(self, arns: Sequence[str]) -> list[tuple[str, str, float | None, str]]:
        """(arn, cluster ARN, stopped at, the stored JSON body) of the tasks found: what DescribeTasks shows, without
        decoding the tasks."""
        self.db.settle()
        if not arns:
            return []
        marks = ",".join("?" * len(arns))
        rows = self.db.query(f"SELECT arn, cluster, stopped_at, body FROM tasks WHERE arn IN ({marks})", list(arns))
        return [(r["arn"], r["cluster"], r["stopped_at"], r["body"]) for r in rows]

    def used_tokens(self, tokens: Sequence[str]) -> set[str]:
        """Which of these client tokens some task was started with (one query for a batch of RunTasks)."""
        if not tokens:
            return set()
        self.db.settle()
        marks = ",".join("?" * len(tokens))
        rows = self.db.query(f"SELECT DISTINCT client_token FROM tasks WHERE client_token IN ({marks})", list(tokens))
        return {r[0] for r in rows}

    def by_client_token(self, token: str) -> list[Task]:
        self.db.settle()
        rows = self.db.query("SELECT body FROM tasks WHERE client_token = ? ORDER BY arn", (token,))
        return [decode(Task, json.loads(r["body"])) for r in rows]

    def list_arns(
        self, cluster_arn: str, family: str | None = None, started_by: str | None = None,
        desired_status: str | None = None, after: str = "", limit: int = 100,
    ) -> list[str]:
        self.db.settle()
        sql = "SELECT arn FROM tasks WHERE cluster = ? AND arn > ?"
        params: list[Any] = [cluster_arn, after]
        for column, value in (("family", family), ("started_by", started_by), ("desired_status", desired_status)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        sql += " ORDER BY arn LIMIT ?"
        params.append(limit)
        return [r["arn"] for r in self.db.query(sql, params)]

    def unfinished(self) -> list[Task]:
        self.db.settle()
        rows = self.db.query("SELECT body FROM tasks WHERE last_status != 'STOPPED'")
        return [decode(Task, json.loads(r["body"])) for r in rows]

    def active(self, cluster_arn: str) -> list[Task]:
        """The cluster's tasks not yet STOPPED."""
        self.db.settle()
        rows = self.db.query("SELECT body FROM tasks WHERE cluster = ? AND last_status != 'STOPPED'", (cluster_arn,))
        return [decode(Task, json.loads(r["body"])) for r in rows]

    def count_active(self, cluster_arn: str) -> int:
        self.db.settle()
        row = self.db.one(
            "SELECT COUNT(*) AS n FROM tasks WHERE cluster = ? AND last_status != 'STOPPED'", (cluster_arn,)
        )
        return int(row["n"]) if row else 0

    def expire_stopped(self, before: float) -> int:
        """Forget tasks stopped before `before` (ECS shows stopped tasks for about an hour); a task started with a
        clientToken stays for the token's 24 hours, so a replayed RunTask still finds it instead of starting another."""
        return self.db.execute(
            "DELETE FROM tasks WHERE stopped_at IS NOT NULL AND stopped_at < ?"
            " AND (client_token IS NULL OR created_at < ?)",
            (before, before - TOKEN_SECONDS),
        )
