"""The durable invocation log: a row per (rule or schedule, target, scheduled instant), written before a launch,
completed after it; retries keep their next attempt time here, and a run of age-expired slots is one summary row."""

from __future__ import annotations

import json
from collections.abc import Sequence
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

# columns added after the first release: (name, SQL type and default); added in place to older databases
ADDED_COLUMNS = (
    ("fired_at", "REAL"),
    ("next_attempt_at", "REAL"),
    ("exhausted", "TEXT"),
    ("dead_letter", "TEXT"),
    ("dead_letter_detail", "TEXT"),
    ("covers_until", "REAL"),
    ("slot_count", "INTEGER NOT NULL DEFAULT 1"),
)
SUMMARY_INDEX = (
    "CREATE INDEX IF NOT EXISTS invocations_summaries ON invocations (rule_arn, target_id, scheduled_at)"
    " WHERE covers_until IS NOT NULL"
)


@dataclass
class Invocation:
    """One target of one scheduled (or manual) firing, and what became of it.

    `fired_at` is when the slot was claimed (the actual fire time), `started_at` the first RunTask attempt.
    A retry waiting for its turn is PENDING with `next_attempt_at` set. `exhausted` is AWS's
    EXHAUSTED_RETRY_CONDITION; `dead_letter` is SENT, FAILED (the DLQ could not take it) or None (no DLQ).
    A summary row (`covers_until` set) stands for `slot_count` slots from `scheduled_at` up to `covers_until`."""

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
    fired_at: float | None = None
    next_attempt_at: float | None = None
    exhausted: str | None = None
    dead_letter: str | None = None
    dead_letter_detail: str | None = None
    covers_until: float | None = None
    slot_count: int = 1


@dataclass(frozen=True)
class Claim:
    """A slot's target to claim: its id and the RunTask clientToken of the slot."""

    target_id: str
    token: str


@dataclass(frozen=True)
class Outcome:
    """How an invocation ended."""

    state: str
    task_arns: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None
    exhausted: str | None = None
    dead_letter: str | None = None
    dead_letter_detail: str | None = None


def _row(row: Any) -> Invocation:
    return Invocation(
        id=row["id"],
        rule_arn=row["rule_arn"],
        rule_name=row["rule_name"],
        target_id=row["target_id"],
        scheduled_at=row["scheduled_at"],
        manual=bool(row["manual"]),
        state=row["state"],
        client_token=row["client_token"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        attempts=row["attempts"],
        task_arns=json.loads(row["task_arns"]),
        error_code=row["error_code"],
        error_message=row["error_message"],
        fired_at=row["fired_at"],
        next_attempt_at=row["next_attempt_at"],
        exhausted=row["exhausted"],
        dead_letter=row["dead_letter"],
        dead_letter_detail=row["dead_letter_detail"],
        covers_until=row["covers_until"],
        slot_count=row["slot_count"],
    )


class InvocationLog:
    """Claims slots (at most once each, every target of a slot in one transaction) and records outcomes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._add_columns()

    def _add_columns(self) -> None:
        with self.db.transaction() as conn:
            present = {r["name"] for r in conn.execute("PRAGMA table_info(invocations)").fetchall()}
            for name, kind in ADDED_COLUMNS:
                if name not in present:
                    conn.execute(f"ALTER TABLE invocations ADD COLUMN {name} {kind}")
            conn.execute(SUMMARY_INDEX)

    def claim_slot(
        self,
        rule_arn: str,
        rule_name: str,
        scheduled_at: float,
        claims: Sequence[Claim],
        fired_at: float,
        manual: bool = False,
    ) -> list[Invocation]:
        """Record a PENDING row for every target of the slot at once (a crash claims all or none); returns the
        rows claimed now: a target claimed before, or inside a run of expired slots, is not claimed again."""
        claimed: list[Invocation] = []
        with self.db.transaction() as conn:
            for claim in claims:
                if not manual and _covered(conn, rule_arn, claim.target_id, scheduled_at):
                    continue
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO invocations (rule_arn, rule_name, target_id, scheduled_at, manual, state,"
                    " client_token, fired_at) VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?)",
                    (rule_arn, rule_name, claim.target_id, scheduled_at, int(manual), claim.token, fired_at),
                )
                if cursor.rowcount:
                    row = conn.execute("SELECT * FROM invocations WHERE id = ?", (cursor.lastrowid,)).fetchone()
                    claimed.append(_row(row))
        return claimed

    def claim(
        self, rule_arn: str, rule_name: str, target_id: str, scheduled_at: float, token: str, manual: bool = False
    ) -> Invocation | None:
        """Claim one target of a slot; None when it was claimed before."""
        found = self.claim_slot(rule_arn, rule_name, scheduled_at, [Claim(target_id, token)], scheduled_at, manual)
        return found[0] if found else None

    def record_expired(
        self,
        rule_arn: str,
        rule_name: str,
        target_id: str,
        first: float,
        until: float,
        count: int,
        token: str,
        now: float,
        outcome: Outcome,
    ) -> Invocation | None:
        """One row for a run of `count` slots from `first` to `until` that passed the maximum event age unlaunched."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO invocations (rule_arn, rule_name, target_id, scheduled_at, manual, state,"
                " client_token, fired_at, finished_at, error_code, error_message, exhausted, dead_letter,"
                " dead_letter_detail, covers_until, slot_count)"
                " VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rule_arn,
                    rule_name,
                    target_id,
                    first,
                    outcome.state,
                    token,
                    now,
                    now,
                    outcome.error_code,
                    outcome.error_message,
                    outcome.exhausted,
                    outcome.dead_letter,
                    outcome.dead_letter_detail,
                    until if count > 1 or until != first else None,
                    count,
                ),
            )
            if not cursor.rowcount:
                return None
            return _row(conn.execute("SELECT * FROM invocations WHERE id = ?", (cursor.lastrowid,)).fetchone())

    def set_dead_letter(self, invocation_id: int, state: str | None, detail: str | None) -> None:
        self.db.execute(
            "UPDATE invocations SET dead_letter = ?, dead_letter_detail = ? WHERE id = ?",
            (state, detail, invocation_id),
        )

    def attempt(self, invocation_id: int, started_at: float) -> int:
        """Count an attempt about to be made; returns the attempt number."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE invocations SET attempts = attempts + 1, started_at = COALESCE(started_at, ?),"
                " next_attempt_at = NULL WHERE id = ?",
                (started_at, invocation_id),
            )
            row = conn.execute("SELECT attempts FROM invocations WHERE id = ?", (invocation_id,)).fetchone()
            return int(row["attempts"]) if row else 0

    def retry_at(self, invocation_id: int, when: float, error_code: str, error_message: str) -> None:
        """The attempt failed retryably: the next one is due at `when` (kept across restarts)."""
        self.db.execute(
            "UPDATE invocations SET next_attempt_at = ?, error_code = ?, error_message = ? WHERE id = ?"
            " AND state = 'PENDING'",
            (when, error_code, error_message, invocation_id),
        )

    def complete(self, invocation_id: int, finished_at: float, outcome: Outcome) -> bool:
        """Record the outcome of a PENDING invocation; False when it was completed already (by another process)."""
        return self.complete_many([(invocation_id, outcome)], finished_at) > 0

    def complete_many(self, outcomes: Sequence[tuple[int, Outcome]], finished_at: float) -> int:
        """Record the outcomes of PENDING invocations (one statement, prepared once); returns how many changed."""
        if not outcomes:
            return 0
        rows = [
            (
                o.state,
                finished_at,
                json.dumps(list(o.task_arns)),
                o.error_code,
                o.error_message,
                o.exhausted,
                o.dead_letter,
                o.dead_letter_detail,
                invocation_id,
            )
            for invocation_id, o in outcomes
        ]
        with self.db.transaction() as conn:
            cursor = conn.executemany(
                "UPDATE invocations SET state = ?, finished_at = ?, task_arns = ?, error_code = ?, error_message = ?,"
                " exhausted = ?, dead_letter = ?, dead_letter_detail = ?, next_attempt_at = NULL"
                " WHERE id = ? AND state = 'PENDING'",
                rows,
            )
            return int(cursor.rowcount)

    def finish(
        self,
        invocation_id: int,
        state: str,
        finished_at: float,
        task_arns: list[str],
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        self.complete(invocation_id, finished_at, Outcome(state, tuple(task_arns), error_code, error_message))

    def pending(self) -> list[Invocation]:
        return [_row(r) for r in self.db.query("SELECT * FROM invocations WHERE state = 'PENDING' ORDER BY id")]

    def get(self, invocation_id: int) -> Invocation | None:
        row = self.db.one("SELECT * FROM invocations WHERE id = ?", (invocation_id,))
        return None if row is None else _row(row)

    def last_slot(self, rule_arn: str) -> float | None:
        """The latest scheduled instant recorded for the rule or schedule (the end of an expired run counts)."""
        row = self.db.one(
            "SELECT MAX(COALESCE(covers_until, scheduled_at)) AS t FROM invocations WHERE rule_arn = ? AND manual = 0",
            (rule_arn,),
        )
        return None if row is None or row["t"] is None else float(row["t"])

    def of_rule(self, rule_arn: str) -> list[Invocation]:
        rows = self.db.query("SELECT * FROM invocations WHERE rule_arn = ? ORDER BY scheduled_at, id", (rule_arn,))
        return [_row(r) for r in rows]

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


def _covered(conn: Any, rule_arn: str, target_id: str, instant: float) -> bool:
    """Whether the instant lies in a run of expired slots already recorded (a clock stepped far back)."""
    row = conn.execute(
        "SELECT covers_until FROM invocations WHERE rule_arn = ? AND target_id = ? AND covers_until IS NOT NULL"
        " AND scheduled_at <= ? ORDER BY scheduled_at DESC LIMIT 1",
        (rule_arn, target_id, instant),
    ).fetchone()
    return row is not None and row["covers_until"] >= instant
