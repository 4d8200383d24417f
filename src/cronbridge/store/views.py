"""Read-only queries for people (console, CLI): pages by indexed cursors with LIMIT, never whole tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cronbridge.codec import decode
from cronbridge.model.ecs import Task
from cronbridge.scope import Scope
from cronbridge.store.database import Database, Dialect, like_literal
from cronbridge.store.events import _DELIVERY_COLUMNS, Delivery, _delivery
from cronbridge.store.invocations import Invocation, _row


@dataclass(frozen=True)
class Bucket:
    """Invocations of one time bucket: how many, how many failed (to launch, or their task did)."""

    start: float
    total: int
    failed: int


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a rule's history: a scheduled (or run-now) invocation of a target, or the delivery to a target of
    an event the rule matched. `at` orders them: the slot, or when the event was matched."""

    at: float
    invocation: Invocation | None = None
    delivery: Delivery | None = None

    @property
    def task_arns(self) -> list[str]:
        if self.invocation is not None:
            return list(self.invocation.task_arns)
        return list(self.delivery.task_arns) if self.delivery is not None else []

    @property
    def cursor(self) -> str:
        """Where the next (older) page starts: `AT:RANK:ID` (rank 1 for invocations, 0 for deliveries)."""
        if self.invocation is not None:
            return f"{self.at!r}:1:{self.invocation.id}"
        assert self.delivery is not None
        return f"{self.at!r}:0:{self.delivery.id}"


def parse_cursor(text: str | None) -> tuple[float, int, int] | None:
    """A HistoryEntry.cursor read back; None for anything else (the newest page)."""
    parts = (text or "").split(":")
    try:
        return (float(parts[0]), int(parts[1]), int(parts[2])) if len(parts) == 3 else None
    except ValueError:
        return None


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks a list shows: by account and Region, by status (`active`: not yet STOPPED), cluster name, family,
    startedBy, only those that failed (exit code or failed to start), and text found in the id, family or startedBy."""

    scope: Scope | None = None  # the account and Region whose tasks are shown (None: every one)
    status: str = ""
    cluster: str = ""
    family: str = ""
    started_by: str = ""
    failed: bool = False
    search: str = ""

    def sql(self, dialect: Dialect) -> tuple[list[str], list[Any]]:
        like = dialect.like()
        clauses: list[str] = []
        params: list[Any] = []
        if self.scope is not None:  # task ARNs of one account and Region share a prefix: a range of the arn key
            prefix = self.scope.arn("ecs", "task/")
            clauses.append("arn >= ? AND arn < ?")
            params.extend([prefix, prefix + "\U0010ffff"])
        if self.status == "active":
            clauses.append("last_status != 'STOPPED'")
        elif self.status:
            clauses.append("last_status = ?")
            params.append(self.status)
        if self.cluster:
            clauses.append(f"cluster {like} ? ESCAPE '\\'")
            params.append(f"%:cluster/{like_literal(self.cluster)}")
        for column, value in (("family", self.family), ("started_by", self.started_by)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.failed:
            clauses.append("EXISTS (SELECT 1 FROM task_outcomes AS o WHERE o.task_arn = tasks.arn"
                           " AND o.state IN ('FAILED', 'FAILED_TO_START'))")
        if self.search:
            clauses.append(f"(arn {like} ? ESCAPE '\\' OR family {like} ? ESCAPE '\\'"
                           f" OR started_by {like} ? ESCAPE '\\')")
            params.extend([f"%{like_literal(self.search)}%"] * 3)
        return clauses, params


class Views:
    """Pages of invocations and tasks, newest first, and per-bucket invocation counts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def last_invocation(self, rule_arn: str) -> Invocation | None:
        row = self.db.one("SELECT * FROM invocations WHERE rule_arn = ? ORDER BY id DESC LIMIT 1", (rule_arn,))
        return None if row is None else _row(row)

    def invocations(self, rule_arn: str, before_id: int | None = None, limit: int = 50) -> list[Invocation]:
        rows = self.db.query(
            "SELECT * FROM invocations WHERE rule_arn = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (rule_arn, before_id if before_id is not None else 2**62, limit),
        )
        return [_row(r) for r in rows]

    def invocation(self, invocation_id: int) -> Invocation | None:
        row = self.db.one("SELECT * FROM invocations WHERE id = ?", (invocation_id,))
        return None if row is None else _row(row)

    def buckets(self, rule_arn: str, since: float, width: float) -> list[Bucket]:
        """Counts per `width` seconds since `since` (only buckets that have invocations); an invocation failed when
        its launch failed or one of its tasks failed (or failed to start)."""
        self.db.settle()
        rows = self.db.query(
            f"SELECT {self.db.dialect.whole('(scheduled_at - ?) / ?')} AS b, COUNT(*) AS n,"
            f" SUM(CASE WHEN state = 'FAILED' OR {_task_failed(self.db, 'invocations.task_arns')}"
            " THEN 1 ELSE 0 END) AS f"
            " FROM invocations WHERE rule_arn = ? AND scheduled_at >= ? GROUP BY b ORDER BY b",
            (since, width, rule_arn, since),
        )
        return [Bucket(since + r["b"] * width, int(r["n"]), int(r["f"] or 0)) for r in rows]

    def regions(self) -> list[str]:
        """Every Region that holds a document (rules, clusters, schedules, ...) or a log group."""
        rows = self.db.query("SELECT DISTINCT region FROM documents UNION SELECT DISTINCT region FROM log_groups")
        return [str(r["region"]) for r in rows]

    def rule_history(
        self, rule_arn: str, scheduled: bool, before: tuple[float, int, int] | None, limit: int
    ) -> list[HistoryEntry]:
        """A rule's invocations (when `scheduled`: a rule of the default bus) and its event deliveries, merged newest
        first, before a cursor; each side read through its index, at most `limit` rows each (by the rule's ARN:
        names repeat across Regions)."""
        entries: list[HistoryEntry] = []
        if scheduled:
            sql = "SELECT * FROM invocations WHERE rule_arn = ?"
            params: list[Any] = [rule_arn]
            if before is not None:
                sql += " AND (scheduled_at < ? OR (scheduled_at = ? AND ? = 1 AND id < ?))"
                params += [before[0], before[0], before[1], before[2]]
            rows = self.db.query(sql + " ORDER BY scheduled_at DESC, id DESC LIMIT ?", [*params, limit])
            entries += [HistoryEntry(r["scheduled_at"], invocation=_row(r)) for r in rows]
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM event_invocations WHERE rule_arn = ?"
        params = [rule_arn]
        if before is not None:
            sql += " AND (at < ? OR (at = ? AND (? = 1 OR id < ?)))"
            params += [before[0], before[0], before[1], before[2]]
        rows = self.db.query(sql + " ORDER BY at DESC, id DESC LIMIT ?", [*params, limit])
        entries += [HistoryEntry(r["at"], delivery=_delivery(r)) for r in rows]
        entries.sort(key=_newest_first)
        return entries[:limit]

    def rule_buckets(self, rule_arn: str, scheduled: bool, since: float, width: float) -> list[Bucket]:
        """buckets() of a rule's invocations and event deliveries together."""
        totals: dict[float, list[int]] = {}
        found = self.buckets(rule_arn, since, width) if scheduled else []
        rows = self.db.query(
            f"SELECT {self.db.dialect.whole('(at - ?) / ?')} AS b, COUNT(*) AS n,"
            f" SUM(CASE WHEN state = 'FAILED' OR {_task_failed(self.db, 'event_invocations.task_arns')}"
            " THEN 1 ELSE 0 END) AS f"
            " FROM event_invocations WHERE rule_arn = ? AND at >= ? GROUP BY b ORDER BY b",
            (since, width, rule_arn, since),
        )
        found += [Bucket(since + r["b"] * width, int(r["n"]), int(r["f"] or 0)) for r in rows]
        for bucket in found:
            total = totals.setdefault(bucket.start, [0, 0])
            total[0] += bucket.total
            total[1] += bucket.failed
        return [Bucket(start, n, f) for start, (n, f) in sorted(totals.items())]

    def tasks(self, before: tuple[float, str] | None = None, limit: int = 50,
              where: TaskFilter | None = None) -> list[Task]:
        """Tasks newest first (by createdAt, then ARN), before a cursor, matching the filter."""
        self.db.settle()
        clauses, params = (where or TaskFilter()).sql(self.db.dialect)
        if before is not None:
            clauses.append("(created_at, arn) < (?, ?)")
            params.extend(before)
        sql = "SELECT body FROM tasks" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        sql += " ORDER BY created_at DESC, arn DESC LIMIT ?"
        return [decode(Task, json.loads(r["body"])) for r in self.db.query(sql, [*params, limit])]

    def task(self, arn: str) -> Task | None:
        self.db.settle()
        row = self.db.one("SELECT body FROM tasks WHERE arn = ?", (arn,))
        return None if row is None else decode(Task, json.loads(row["body"]))

    def task_of_cluster_name(self, cluster: str, task_id: str) -> Task | None:
        """A task by its cluster's name and its id, in any account and Region (its cluster may
        have been deleted; a scan: the console's fallback only)."""
        self.db.settle()
        row = self.db.one(f"SELECT body FROM tasks WHERE arn {self.db.dialect.like()} ? ESCAPE '\\'"
                          " ORDER BY created_at DESC LIMIT 1",
                          (f"%:task/{like_literal(cluster)}/{like_literal(task_id)}",))
        return None if row is None else decode(Task, json.loads(row["body"]))

    def running_count(self, cluster_arn: str) -> int:
        """Tasks of a cluster meant to run (desiredStatus RUNNING), counted through the cluster index."""
        self.db.settle()
        row = self.db.one(
            "SELECT COUNT(*) AS n FROM tasks WHERE cluster = ? AND desired_status = 'RUNNING'", (cluster_arn,)
        )
        return int(row["n"]) if row else 0


def _task_failed(db: Database, task_arns: str) -> str:
    """A test that one of the tasks in the JSON array `task_arns` failed (or failed to start)."""
    return (f"EXISTS (SELECT 1 FROM {db.dialect.json_items(task_arns, 'j')} JOIN task_outcomes AS o"
            " ON o.task_arn = j.value WHERE o.state IN ('FAILED', 'FAILED_TO_START'))")


def _newest_first(entry: HistoryEntry) -> tuple[float, int, int]:
    if entry.invocation is not None:
        return (-entry.at, -1, -entry.invocation.id)
    return (-entry.at, 0, -(entry.delivery.id if entry.delivery else 0))
