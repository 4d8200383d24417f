"""What became of each stopped task, kept longer than the task itself, and counts of stops for /metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cronbridge.ecs.outcome import Outcome, TaskOutcome, task_outcome
from cronbridge.model.ecs import Task, TaskStatus
from cronbridge.store.database import Database

KEEP_SECONDS = 90 * 86400.0  # outcomes outlive their tasks (swept after --task-retention) by this much at least
_INSERT = (
    "INSERT INTO task_outcomes (task_arn, rule, state, exit_code, container, stop_code, reason, stopped_at)"
    " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (task_arn) DO NOTHING"
)
_COUNT = (
    "INSERT INTO task_stop_counts (rule, stop_code, exit_code, n) VALUES (?,?,?,1)"
    " ON CONFLICT (rule, stop_code, exit_code) DO UPDATE SET n = task_stop_counts.n + 1"
)


@dataclass(frozen=True)
class StoppedOutcome:
    """One stopped task's outcome as stored: the rule (or schedule) that started it, and when it stopped."""

    task_arn: str
    rule: str
    outcome: TaskOutcome
    stopped_at: float


def rule_of(started_by: str | None) -> str:
    """`events-rule/NAME` -> NAME; `chronos-schedule/NAME` -> schedule/NAME; anything else -> ''."""
    kind, _, name = (started_by or "").partition("/")
    return {"events-rule": name, "chronos-schedule": f"schedule/{name}"}.get(kind, "")


def outcome_row(task: Task) -> tuple[Any, ...] | None:
    """The row to record for a task that has just stopped (None while it has not)."""
    if task.last_status is not TaskStatus.STOPPED:
        return None
    found = task_outcome(task)
    return (task.task_arn, rule_of(task.started_by), found.state.value, found.exit_code, found.container,
            found.stop_code, found.reason, task.stopped_at or 0.0)


class TaskOutcomes:
    """Outcomes by task ARN. Written by the task writer in the transaction that records STOPPED; a task's first
    outcome is the one kept, and counted once."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Inside the caller's transaction (the task writer's): record and count each task's stop once."""
        with self.db.transaction() as conn:
            for row in rows:
                if conn.execute(_INSERT, row).rowcount:
                    exit_code = "" if row[3] is None else str(row[3])
                    conn.execute(_COUNT, (row[1], row[5] or "", exit_code))

    def get_many(self, arns: Sequence[str]) -> dict[str, StoppedOutcome]:
        if not arns:
            return {}
        self.db.settle()
        marks = ",".join("?" * len(arns))
        rows = self.db.query(f"SELECT * FROM task_outcomes WHERE task_arn IN ({marks})", tuple(arns))
        return {r["task_arn"]: _stopped(r) for r in rows}

    def stop_counts(self) -> list[tuple[str, str, str, int]]:
        """(rule, stop code, exit code, stops) since the database was made: counters that only grow."""
        self.db.settle()
        rows = self.db.query(
            "SELECT rule, stop_code, exit_code, n FROM task_stop_counts ORDER BY rule, stop_code, exit_code"
        )
        return [(r["rule"], r["stop_code"], r["exit_code"], int(r["n"])) for r in rows]

    def expire(self, before: float) -> int:
        return self.db.execute("DELETE FROM task_outcomes WHERE stopped_at < ?", (before,))


def _stopped(row: Any) -> StoppedOutcome:
    outcome = TaskOutcome(Outcome(row["state"]), row["exit_code"], row["container"], row["stop_code"], row["reason"])
    return StoppedOutcome(row["task_arn"], row["rule"], outcome, row["stopped_at"])
