"""The durable invocation log: a row per (rule or schedule, target, scheduled instant), written before a launch,
completed after it; retries keep their next attempt time here, and a run of age-expired slots is one summary row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cronbridge.scope import Scope
from cronbridge.store.database import Database, arn_like


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
    delivered: str | None = None  # what a target other than ECS made of it: a message id, an event id, a log stream


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
    delivered: str | None = None


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
        delivered=row["delivered"],
    )


class InvocationLog:
    """Claims slots (at most once each, every target of a slot in one transaction) and records outcomes."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
                row = conn.execute(
                    "INSERT INTO invocations (rule_arn, rule_name, target_id, scheduled_at, manual, state,"
                    " client_token, fired_at) VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?)"
                    " ON CONFLICT DO NOTHING RETURNING id",
                    (rule_arn, rule_name, claim.target_id, scheduled_at, int(manual), claim.token, fired_at),
                ).fetchone()
                if row is not None:  # the new row, as it was written (no read back): a slot is claimed once
                    claimed.append(
                        Invocation(
                            int(row["id"]), rule_arn, rule_name, claim.target_id, scheduled_at, manual,
                            "PENDING", claim.token, fired_at=fired_at,
                        )
                    )
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
            row = conn.execute(
                "INSERT INTO invocations (rule_arn, rule_name, target_id, scheduled_at, manual, state,"
                " client_token, fired_at, finished_at, error_code, error_message, exhausted, dead_letter,"
                " dead_letter_detail, covers_until, slot_count)"
                " VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING *",
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
            ).fetchone()
            return None if row is None else _row(row)

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

    def attempt_many(self, invocation_ids: Sequence[int], started_at: float) -> dict[int, int]:
        """Count an attempt about to be made for each invocation (one statement); their attempt numbers by id."""
        if not invocation_ids:
            return {}
        marks = ",".join("?" * len(invocation_ids))
        with self.db.transaction() as conn:
            rows = conn.execute(
                "UPDATE invocations SET attempts = attempts + 1, started_at = COALESCE(started_at, ?),"
                f" next_attempt_at = NULL WHERE id IN ({marks}) RETURNING id, attempts",
                (started_at, *invocation_ids),
            ).fetchall()
        return {int(r[0]): int(r[1]) for r in rows}

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
                o.delivered,
                invocation_id,
            )
            for invocation_id, o in outcomes
        ]
        with self.db.transaction() as conn:
            cursor = conn.executemany(
                "UPDATE invocations SET state = ?, finished_at = ?, task_arns = ?, error_code = ?, error_message = ?,"
                " exhausted = ?, dead_letter = ?, dead_letter_detail = ?, delivered = ?, next_attempt_at = NULL"
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

    def last_slots(self, rule_arns: list[str]) -> dict[str, float]:
        """last_slot of many rules or schedules at once (those with none recorded are left out)."""
        found: dict[str, float] = {}
        for start in range(0, len(rule_arns), 500):
            chunk = rule_arns[start:start + 500]
            rows = self.db.query(
                "SELECT rule_arn, MAX(COALESCE(covers_until, scheduled_at)) AS t FROM invocations"
                f" WHERE rule_arn IN ({','.join('?' * len(chunk))}) AND manual = 0 GROUP BY rule_arn",
                chunk,
            )
            found.update({str(r["rule_arn"]): float(r["t"]) for r in rows if r["t"] is not None})
        return found

    def of_rule(self, rule_arn: str) -> list[Invocation]:
        rows = self.db.query("SELECT * FROM invocations WHERE rule_arn = ? ORDER BY scheduled_at, id", (rule_arn,))
        return [_row(r) for r in rows]

    def recent(
        self, rule_arn: str | None = None, limit: int = 100, before_id: int | None = None, scope: Scope | None = None
    ) -> list[Invocation]:
        """The latest invocations, newest first: of one rule or schedule (by ARN), or of every rule and schedule of
        `scope` (or of all)."""
        sql = "SELECT * FROM invocations WHERE id < ?"
        params: list[Any] = [before_id if before_id is not None else 2**62]
        if rule_arn is not None:
            sql += " AND rule_arn = ?"
            params.append(rule_arn)
        elif scope is not None:
            sql += " AND (rule_arn LIKE ? ESCAPE '\\' OR rule_arn LIKE ? ESCAPE '\\')"
            params += [arn_like(scope, "events"), arn_like(scope, "scheduler")]
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
