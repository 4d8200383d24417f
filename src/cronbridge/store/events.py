"""Events a rule matched and their deliveries to targets (retries, dead letters), and the rules' change counter."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cronbridge.scope import Scope
from cronbridge.store.database import Database, arn_like

RULES_COUNTER = "events.rules"
IN_SCOPE = "rule_arn >= ? AND rule_arn < ?"  # the rules of one account and Region


@dataclass(frozen=True)
class Delivery:
    """One matched event's invocation of one target."""

    id: int
    at: float
    event_id: str
    bus: str
    rule_name: str
    rule_arn: str
    target_id: str
    target_arn: str
    state: str  # PENDING (a retry is due at next_attempt_at), SUCCEEDED, FAILED
    attempts: int
    payload: str
    event: str
    next_attempt_at: float | None = None
    finished_at: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    dead_letter: str | None = None  # SENT, FAILED, or None (no dead-letter queue)
    task_arns: tuple[str, ...] = ()  # the tasks an ECS target started
    delivered: str | None = None  # what another target made of it: a message id, an event id, a log stream


@dataclass(frozen=True)
class Match:
    at: float
    bus: str
    rule_name: str
    rule_arn: str
    event_id: str
    targets: int
    event: str


_DELIVERY_COLUMNS = (
    "id, at, event_id, bus, rule_name, rule_arn, target_id, target_arn, state, attempts, payload, event, "
    "next_attempt_at, finished_at, error_code, error_message, dead_letter, task_arns, delivered"
)


def _delivery(row: Any) -> Delivery:
    fields = dict(row)
    fields["task_arns"] = tuple(json.loads(fields["task_arns"] or "[]"))
    return Delivery(**fields)


class EventLog:
    """Matches and deliveries, written in the transaction that routes the event."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def rules_version(self) -> int:
        """How many times rules or targets changed (any process): routing caches compare it."""
        row = self.db.one("SELECT value FROM counters WHERE name = ?", (RULES_COUNTER,))
        return int(row["value"]) if row else 0

    def record_match(self, match: Match) -> None:
        self.db.execute(
            "INSERT INTO event_matches (at, bus, rule_name, rule_arn, event_id, targets, event)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (match.at, match.bus, match.rule_name, match.rule_arn, match.event_id, match.targets, match.event),
        )

    def record_delivery(self, d: Delivery) -> int:
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO event_invocations (at, event_id, bus, rule_name, rule_arn, target_id, target_arn, state,"
                " attempts, payload, event, next_attempt_at, finished_at, error_code, error_message, dead_letter,"
                " task_arns, delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (d.at, d.event_id, d.bus, d.rule_name, d.rule_arn, d.target_id, d.target_arn, d.state, d.attempts,
                 d.payload, d.event, d.next_attempt_at, d.finished_at, d.error_code, d.error_message, d.dead_letter,
                 json.dumps(list(d.task_arns)), d.delivered),
            )
            return int(cursor.fetchone()[0])

    def update_delivery(self, d: Delivery) -> None:
        self.db.execute(
            "UPDATE event_invocations SET state = ?, attempts = ?, next_attempt_at = ?, finished_at = ?,"
            " error_code = ?, error_message = ?, dead_letter = ?, task_arns = ?, delivered = ? WHERE id = ?",
            (d.state, d.attempts, d.next_attempt_at, d.finished_at, d.error_code, d.error_message, d.dead_letter,
             json.dumps(list(d.task_arns)), d.delivered, d.id),
        )

    def due(self, now: float, limit: int = 100) -> list[Delivery]:
        rows = self.db.query(
            f"SELECT {_DELIVERY_COLUMNS} FROM event_invocations WHERE state = 'PENDING' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at LIMIT ?",
            (now, limit),
        )
        return [_delivery(r) for r in rows]

    def next_due(self) -> float | None:
        row = self.db.one("SELECT MIN(next_attempt_at) AS t FROM event_invocations WHERE state = 'PENDING'")
        return None if row is None or row["t"] is None else float(row["t"])

    def deliveries(self, rule_arn: str, limit: int = 50) -> list[Delivery]:
        rows = self.db.query(
            f"SELECT {_DELIVERY_COLUMNS} FROM event_invocations WHERE rule_arn = ? ORDER BY at DESC, id DESC LIMIT ?",
            (rule_arn, limit),
        )
        return [_delivery(r) for r in rows]

    def delivery(self, delivery_id: int) -> Delivery | None:
        row = self.db.one(f"SELECT {_DELIVERY_COLUMNS} FROM event_invocations WHERE id = ?", (delivery_id,))
        return None if row is None else _delivery(row)

    def recent(self, rule_arn: str | None = None, limit: int = 100, scope: Scope | None = None) -> list[Delivery]:
        """The newest deliveries (of one rule, by its ARN, or of every rule of `scope` or of all), newest first."""
        sql = f"SELECT {_DELIVERY_COLUMNS} FROM event_invocations"
        params: list[object] = []
        if rule_arn is not None:
            sql += " WHERE rule_arn = ?"
            params.append(rule_arn)
        elif scope is not None:
            sql += " WHERE rule_arn LIKE ? ESCAPE '\\'"
            params.append(arn_like(scope, "events"))
        rows = self.db.query(sql + " ORDER BY at DESC, id DESC LIMIT ?", [*params, limit])
        return [_delivery(r) for r in rows]

    def matches(self, rule_arn: str, limit: int = 50) -> list[Match]:
        rows = self.db.query(
            "SELECT at, bus, rule_name, rule_arn, event_id, targets, event FROM event_matches WHERE rule_arn = ?"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (rule_arn, limit),
        )
        return [Match(**dict(r)) for r in rows]

    def expire(self, before: float) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM event_matches WHERE at < ?", (before,))
            conn.execute("DELETE FROM event_invocations WHERE at < ? AND state != 'PENDING'", (before,))


class EventCounts:
    """AWS/Events counts of rules matching events on a bus, for one account and Region (the rule ARNs of the
    scope share a prefix: the queries read a range of the rule_arn index)."""

    def __init__(self, db: Database, scope: Scope) -> None:
        self.db = db
        rules = scope.arn("events", "rule/")
        self.bounds = [rules, rules + "\U0010ffff"]

    def match_instants(self, rule_name: str | None, start: float, end: float, triggered: bool) -> list[float]:
        sql = f"SELECT at FROM event_matches WHERE {IN_SCOPE} AND at >= ? AND at < ?"
        params: list[object] = [*self.bounds, start, end]
        if rule_name is not None:
            sql += " AND rule_name = ?"
            params.append(rule_name)
        if triggered:
            sql += " AND targets > 0"
        return [float(r["at"]) for r in self.db.query(sql, params)]

    def delivery_instants(self, states: Sequence[str], rule_name: str | None, start: float, end: float) -> list[float]:
        marks = ", ".join("?" for _ in states)
        sql = f"SELECT at FROM event_invocations WHERE {IN_SCOPE} AND state IN ({marks}) AND at >= ? AND at < ?"
        params: list[object] = [*self.bounds, *states, start, end]
        if rule_name is not None:
            sql += " AND rule_name = ?"
            params.append(rule_name)
        return [float(r["at"]) for r in self.db.query(sql, params)]

    def dead_letter_instants(self, rule_name: str | None, start: float, end: float) -> list[float]:
        sql = f"SELECT at FROM event_invocations WHERE {IN_SCOPE} AND dead_letter = 'SENT' AND at >= ? AND at < ?"
        params: list[object] = [*self.bounds, start, end]
        if rule_name is not None:
            sql += " AND rule_name = ?"
            params.append(rule_name)
        return [float(r["at"]) for r in self.db.query(sql, params)]

    def rule_names(self, since: float) -> list[str]:
        rows = self.db.query(
            f"SELECT DISTINCT rule_name FROM event_matches WHERE {IN_SCOPE} AND at >= ?", (*self.bounds, since)
        )
        return sorted(r["rule_name"] for r in rows)


@dataclass(frozen=True)
class HistoryItem:
    alarm_name: str
    at: float
    kind: str  # StateUpdate, ConfigurationUpdate, Action
    summary: str
    data: str


class AlarmHistory:
    """DescribeAlarmHistory's items, newest first; an alarm's history is that of its account and Region."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, scope: Scope, item: HistoryItem) -> None:
        self.db.execute(
            "INSERT INTO alarm_history (account, region, alarm_name, at, kind, summary, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (scope.account, scope.region, item.alarm_name, item.at, item.kind, item.summary, item.data),
        )

    def items(
        self,
        scope: Scope,
        alarm_name: str | None,
        kind: str | None,
        start: float,
        end: float,
        limit: int,
        before_id: int | None,
    ) -> list[tuple[int, HistoryItem]]:
        sql = (
            "SELECT id, alarm_name, at, kind, summary, data FROM alarm_history"
            " WHERE account = ? AND region = ? AND at >= ? AND at <= ?"
        )
        params: list[object] = [scope.account, scope.region, start, end]
        if alarm_name:
            sql += " AND alarm_name = ?"
            params.append(alarm_name)
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        rows = self.db.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [(r["id"], HistoryItem(r["alarm_name"], r["at"], r["kind"], r["summary"], r["data"])) for r in rows]

    def forget(self, scope: Scope, alarm_name: str) -> None:
        self.db.execute(
            "DELETE FROM alarm_history WHERE account = ? AND region = ? AND alarm_name = ?",
            (scope.account, scope.region, alarm_name),
        )

    def expire(self, before: float) -> None:
        self.db.execute("DELETE FROM alarm_history WHERE at < ?", (before,))
