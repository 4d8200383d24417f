"""Stored metric samples (PutMetricData) and the scheduler's counts read from the invocation log."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cronbridge.model.metrics import Dimensions, MetricId, Sample
from cronbridge.scope import Scope
from cronbridge.store.database import Database


def dims_key(dims: Dimensions) -> str:
    return json.dumps([list(d) for d in dims], separators=(",", ":"))


def _dims(text: str) -> Dimensions:
    return tuple((str(k), str(v)) for k, v in json.loads(text))


class MetricStore:
    """Samples by metric in one account and Region, read by time range; distinct metrics for ListMetrics."""

    def __init__(self, db: Database, scope: Scope) -> None:
        self.db = db
        self.where = (scope.account, scope.region)

    def add(self, entries: Iterable[tuple[MetricId, Sample]]) -> None:
        rows = [
            (
                *self.where,
                m.namespace,
                m.name,
                dims_key(m.dims),
                s.timestamp,
                s.total,
                s.count,
                s.minimum,
                s.maximum,
                json.dumps(list(s.values)),
                s.unit,
            )
            for m, s in entries
        ]
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO metric_samples (account, region, namespace, name, dims, ts, total, count, minimum,"
                " maximum, vals, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def samples(self, metric: MetricId, start: float, end: float) -> list[Sample]:
        rows = self.db.query(
            "SELECT ts, total, count, minimum, maximum, vals, unit FROM metric_samples"
            " WHERE account = ? AND region = ? AND namespace = ? AND name = ? AND dims = ? AND ts >= ? AND ts < ?"
            " ORDER BY ts",
            (*self.where, metric.namespace, metric.name, dims_key(metric.dims), start, end),
        )
        return [
            Sample(r["ts"], r["total"], r["count"], r["minimum"], r["maximum"], tuple(json.loads(r["vals"])), r["unit"])
            for r in rows
        ]

    def metrics(self, namespace: str | None, name: str | None, since: float) -> list[MetricId]:
        sql = "SELECT DISTINCT namespace, name, dims FROM metric_samples WHERE account = ? AND region = ? AND ts >= ?"
        params: list[Any] = [*self.where, since]
        if namespace is not None:
            sql += " AND namespace = ?"
            params.append(namespace)
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        return [MetricId(r["namespace"], r["name"], _dims(r["dims"])) for r in self.db.query(sql, params)]


IN_SCOPE = "rule_arn >= ? AND rule_arn < ?"  # AWS/Events counts the scope's rules; schedules share the log
_OUTCOMES = {  # the invocation log's terminal states (a SKIPPED slot, no-overlap, invoked nothing)
    "invoked": "state IN ('SUCCEEDED', 'FAILED')",
    "failed": "state = 'FAILED'",
    "dead_lettered": "dead_letter = 'SENT'",
}


class InvocationCounts:
    """The scheduler's counts per rule (AWS/Events) of one account and Region, read from the durable invocation
    log: one value per event."""

    def __init__(self, db: Database, scope: Scope) -> None:
        self.db = db
        self.rules = scope.arn("events", "rule/")  # every rule ARN of the scope starts so
        self.bounds = [self.rules, self.rules + "\U0010ffff"]

    def instants(self, outcome: str, rule: str | None, start: float, end: float) -> list[float]:
        """When each rule invocation with `outcome` (invoked | failed | dead_lettered) was first attempted (else its
        slot), in [start, end), for one rule or all of them."""
        sql = (
            "SELECT COALESCE(started_at, scheduled_at) AS t FROM invocations"
            f" WHERE {_OUTCOMES[outcome]} AND {IN_SCOPE}"
            " AND COALESCE(started_at, scheduled_at) >= ? AND COALESCE(started_at, scheduled_at) < ?"
        )
        params: list[Any] = [*self.bounds, start, end]
        if rule is not None:
            sql += " AND rule_arn = ?"
            params.append(self.rules + rule)
        return [float(r["t"]) for r in self.db.query(sql, params)]

    def triggered(self, rule: str | None, start: float, end: float) -> list[float]:
        """Slot instants at which a rule fired (one per rule and slot, however many targets)."""
        sql = f"SELECT DISTINCT rule_arn, scheduled_at FROM invocations WHERE manual = 0 AND {IN_SCOPE}"
        sql += " AND scheduled_at >= ?"
        sql += " AND scheduled_at < ?"
        params: list[Any] = [*self.bounds, start, end]
        if rule is not None:
            sql += " AND rule_arn = ?"
            params.append(self.rules + rule)
        return [float(r["scheduled_at"]) for r in self.db.query(sql, params)]

    def rule_names(self, since: float) -> list[str]:
        rows = self.db.query(
            f"SELECT DISTINCT rule_name FROM invocations WHERE {IN_SCOPE}"
            " AND COALESCE(started_at, scheduled_at) >= ?",
            (*self.bounds, since),
        )
        return [str(r["rule_name"]) for r in rows]



def outcomes(db: Database) -> list[tuple[str, str, int]]:
    """(rule, state, count) over the whole log (every account and Region), for the Prometheus endpoint."""
    rows = db.query("SELECT rule_name, state, COUNT(*) AS n FROM invocations GROUP BY rule_name, state")
    return [(str(r["rule_name"]), str(r["state"]), int(r["n"])) for r in rows]


class RuntimeCounts:
    """Gauges for the Prometheus endpoint: tasks by status, and recent launch lateness."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def tasks_by_status(self) -> list[tuple[str, int]]:
        self.db.settle()
        rows = self.db.query("SELECT last_status, COUNT(*) AS n FROM tasks GROUP BY last_status")
        return [(str(r["last_status"]), int(r["n"])) for r in rows]

    def recent_lateness(self, limit: int = 1000) -> list[float]:
        """Seconds between slot and first launch attempt, for the latest scheduled invocations."""
        rows = self.db.query(
            "SELECT started_at - scheduled_at AS late FROM invocations WHERE manual = 0 AND started_at IS NOT NULL"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [float(r["late"]) for r in rows]
