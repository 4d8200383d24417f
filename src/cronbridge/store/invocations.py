"""The durable invocation log: a row per (rule, target, scheduled instant), written before a launch, completed after."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cronbridge.store.db import Database, schema

schema(
    """
    CREATE TABLE IF NOT EXISTS invocations (
        id INTEGER PRIMARY KEY, rule_arn TEXT NOT NULL, rule_name TEXT NOT NULL, target_id TEXT NOT NULL,
        scheduled_at REAL NOT NULL, manual INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,
        client_token TEXT NOT NULL, started_at REAL, finished_at REAL, attempts INTEGER NOT NULL DEFAULT 0,
        task_arns TEXT NOT NULL DEFAULT '[]', error_code TEXT, error_message TEXT,
        UNIQUE (rule_arn, target_id, scheduled_at, manual));
    CREATE INDEX IF NOT EXISTS invocations_rule ON invocations (rule_name, scheduled_at);
    CREATE INDEX IF NOT EXISTS invocations_pending ON invocations (state) WHERE state = 'PENDING';
    CREATE INDEX IF NOT EXISTS invocations_target ON invocations (rule_arn, target_id, id);
    CREATE TABLE IF NOT EXISTS invocation_notes (invocation_id INTEGER PRIMARY KEY, note TEXT NOT NULL);
    """
)


@dataclass
class Invocation:
    """One target of one scheduled (or manual) firing, and what became of it."""

    id: int
    rule_arn: str
    rule_name: str
    target_id: str
    scheduled_at: float
    manual: bool
    state: str
    client_token: str
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    task_arns: list[str] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None


def _row(row: Any) -> Invocation:
    return Invocation(
        id=row["id"], rule_arn=row["rule_arn"], rule_name=row["rule_name"], target_id=row["target_id"],
        scheduled_at=row["scheduled_at"], manual=bool(row["manual"]), state=row["state"],
        client_token=row["client_token"], started_at=row["started_at"], finished_at=row["finished_at"],
        attempts=row["attempts"], task_arns=json.loads(row["task_arns"]), error_code=row["error_code"],
        error_message=row["error_message"],
    )


class InvocationLog:
    """Claims slots (at most once each) and records outcomes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, rule_arn: str, rule_name: str, target_id: str, scheduled_at: float, token: str,
              manual: bool = False) -> Invocation | None:
        """Record a PENDING slot; None when the slot was claimed before (it will never launch twice)."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO invocations (rule_arn, rule_name, target_id, scheduled_at, manual, state,"
                " client_token) VALUES (?, ?, ?, ?, ?, 'PENDING', ?)",
                (rule_arn, rule_name, target_id, scheduled_at, int(manual), token),
            )
            if cursor.rowcount == 0:
                return None
            row = conn.execute("SELECT * FROM invocations WHERE id = ?", (cursor.lastrowid,)).fetchone()
            return _row(row)

    def attempt(self, invocation_id: int, started_at: float) -> None:
        self.db.execute(
            "UPDATE invocations SET attempts = attempts + 1, started_at = COALESCE(started_at, ?) WHERE id = ?",
            (started_at, invocation_id),
        )

    def finish(self, invocation_id: int, state: str, finished_at: float, task_arns: list[str],
               error_code: str | None = None, error_message: str | None = None) -> None:
        self.db.execute(
            "UPDATE invocations SET state = ?, finished_at = ?, task_arns = ?, error_code = ?, error_message = ?"
            " WHERE id = ?",
            (state, finished_at, json.dumps(task_arns), error_code, error_message, invocation_id),
        )

    def pending(self) -> list[Invocation]:
        return [_row(r) for r in self.db.query("SELECT * FROM invocations WHERE state = 'PENDING' ORDER BY id")]

    def get(self, invocation_id: int) -> Invocation | None:
        row = self.db.one("SELECT * FROM invocations WHERE id = ?", (invocation_id,))
        return None if row is None else _row(row)

    def last_slot(self, rule_arn: str) -> float | None:
        row = self.db.one(
            "SELECT MAX(scheduled_at) AS t FROM invocations WHERE rule_arn = ? AND manual = 0", (rule_arn,)
        )
        return None if row is None or row["t"] is None else float(row["t"])

    def recent(self, rule_name: str | None = None, limit: int = 100, before_id: int | None = None) -> list[Invocation]:
        sql = "SELECT * FROM invocations WHERE id < ?"
        params: list[Any] = [before_id if before_id is not None else 2**62]
        if rule_name is not None:
            sql += " AND rule_name = ?"
            params.append(rule_name)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [_row(r) for r in self.db.query(sql, params)]

    # no-overlap (cronbridge:no-overlap) -------------------------------------
    def earlier_unfinished(self, invocation: Invocation) -> Invocation | None:
        """The oldest scheduled invocation of the same target, before this one, that has not launched yet."""
        row = self.db.one(
            "SELECT * FROM invocations WHERE rule_arn = ? AND target_id = ? AND id < ? AND state = 'PENDING'"
            " AND manual = 0 ORDER BY id LIMIT 1",
            (invocation.rule_arn, invocation.target_id, invocation.id),
        )
        return None if row is None else _row(row)

    def last_launched(self, invocation: Invocation) -> Invocation | None:
        """The latest invocation of the same target, before this one, that started tasks."""
        row = self.db.one(
            "SELECT * FROM invocations WHERE rule_arn = ? AND target_id = ? AND id < ? AND task_arns != '[]'"
            " ORDER BY id DESC LIMIT 1",
            (invocation.rule_arn, invocation.target_id, invocation.id),
        )
        return None if row is None else _row(row)

    def set_note(self, invocation_id: int, note: str) -> None:
        """A remark on an invocation (queued or skipped behind a running task, ...)."""
        self.db.execute(
            "INSERT INTO invocation_notes (invocation_id, note) VALUES (?, ?)"
            " ON CONFLICT (invocation_id) DO UPDATE SET note = excluded.note",
            (invocation_id, note),
        )

    def notes(self, invocation_ids: list[int]) -> dict[int, str]:
        if not invocation_ids:
            return {}
        marks = ",".join("?" * len(invocation_ids))
        rows = self.db.query(
            f"SELECT invocation_id, note FROM invocation_notes WHERE invocation_id IN ({marks})", invocation_ids
        )
        return {int(r["invocation_id"]): str(r["note"]) for r in rows}
