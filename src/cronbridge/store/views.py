"""Read-only queries for people (console, CLI): pages by indexed cursors with LIMIT, never whole tables."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from typing import Any

from cronbridge.codec import decode
from cronbridge.model.ecs import Task
from cronbridge.store.db import Database, schema
from cronbridge.store.invocations import Invocation, _row

INDEXES = schema(
    """
    CREATE INDEX IF NOT EXISTS invocations_rule_id ON invocations (rule_name, id);
    CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at, arn);
    """
)
_INDEXED: weakref.WeakSet[Database] = weakref.WeakSet()


def ensure_indexes(db: Database) -> None:
    """Create the indexes these pages read by, once per open database (it may predate this module's import)."""
    if db not in _INDEXED:
        with db.lock:
            db.conn.executescript(INDEXES)
        _INDEXED.add(db)


@dataclass(frozen=True)
class Bucket:
    """Invocations of one time bucket: how many, how many failed."""

    start: float
    total: int
    failed: int


class Views:
    """Pages of invocations and tasks, newest first, and per-bucket invocation counts."""

    def __init__(self, db: Database) -> None:
        self.db = db
        ensure_indexes(db)

    def last_invocation(self, rule_name: str) -> Invocation | None:
        row = self.db.one("SELECT * FROM invocations WHERE rule_name = ? ORDER BY id DESC LIMIT 1", (rule_name,))
        return None if row is None else _row(row)

    def invocations(self, rule_name: str, before_id: int | None = None, limit: int = 50) -> list[Invocation]:
        rows = self.db.query(
            "SELECT * FROM invocations WHERE rule_name = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (rule_name, before_id if before_id is not None else 2**62, limit),
        )
        return [_row(r) for r in rows]

    def invocation(self, invocation_id: int) -> Invocation | None:
        row = self.db.one("SELECT * FROM invocations WHERE id = ?", (invocation_id,))
        return None if row is None else _row(row)

    def buckets(self, rule_name: str, since: float, width: float) -> list[Bucket]:
        """Counts per `width` seconds since `since` (only buckets that have invocations)."""
        rows = self.db.query(
            "SELECT CAST((scheduled_at - ?) / ? AS INTEGER) AS b, COUNT(*) AS n,"
            " SUM(CASE WHEN state = 'FAILED' THEN 1 ELSE 0 END) AS f"
            " FROM invocations WHERE rule_name = ? AND scheduled_at >= ? GROUP BY b ORDER BY b",
            (since, width, rule_name, since),
        )
        return [Bucket(since + r["b"] * width, int(r["n"]), int(r["f"] or 0)) for r in rows]

    def tasks(self, before: tuple[float, str] | None = None, limit: int = 50) -> list[Task]:
        """Tasks newest first (by createdAt, then ARN), before a cursor."""
        self.db.settle()
        sql = "SELECT body FROM tasks"
        params: list[Any] = []
        if before is not None:
            sql += " WHERE (created_at, arn) < (?, ?)"
            params.extend(before)
        sql += " ORDER BY created_at DESC, arn DESC LIMIT ?"
        return [decode(Task, json.loads(r["body"])) for r in self.db.query(sql, [*params, limit])]

    def task(self, arn: str) -> Task | None:
        self.db.settle()
        row = self.db.one("SELECT body FROM tasks WHERE arn = ?", (arn,))
        return None if row is None else decode(Task, json.loads(row["body"]))

    def running_count(self, cluster_arn: str) -> int:
        """Tasks of a cluster meant to run (desiredStatus RUNNING), counted through the cluster index."""
        self.db.settle()
        row = self.db.one(
            "SELECT COUNT(*) AS n FROM tasks WHERE cluster = ? AND desired_status = 'RUNNING'", (cluster_arn,)
        )
        return int(row["n"]) if row else 0
