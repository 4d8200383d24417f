"""Logs Insights queries: what was asked (in which account and Region), their state, and their results once
complete."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cronbridge.scope import Scope
from cronbridge.store.database import Database

KEEP_SECONDS = 7 * 86400  # results stay readable for 7 days, as AWS keeps them


@dataclass(frozen=True)
class StoredQuery:
    id: str
    created: float
    query: str
    groups: tuple[str, ...]
    start_ms: int
    end_ms: int
    limit: int | None
    status: str  # Scheduled, Running, Complete, Failed, Cancelled
    results: list[list[list[str]]] | None
    statistics: dict[str, Any] | None
    completed: float | None
    scope: Scope  # a query is of one account and Region: its log groups are theirs, and only they see it


def _row(r: Any) -> StoredQuery:
    return StoredQuery(
        r["id"],
        r["created"],
        r["query"],
        tuple(json.loads(r["groups"])),
        r["start_ms"],
        r["end_ms"],
        r["query_limit"],
        r["status"],
        json.loads(r["results"]) if r["results"] else None,
        json.loads(r["statistics"]) if r["statistics"] else None,
        r["completed"],
        Scope(r["account"], r["region"]),
    )


class InsightsQueries:
    """Stored queries; every read is of one account and Region."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, q: StoredQuery) -> None:
        self.db.execute(
            "INSERT INTO insights_queries (id, account, region, created, query, groups, start_ms, end_ms,"
            " query_limit, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (q.id, q.scope.account, q.scope.region, q.created, q.query, json.dumps(list(q.groups)), q.start_ms,
             q.end_ms, q.limit, q.status),
        )

    def get(self, scope: Scope, query_id: str) -> StoredQuery | None:
        row = self.db.one(
            "SELECT * FROM insights_queries WHERE id = ? AND account = ? AND region = ?",
            (query_id, scope.account, scope.region),
        )
        return None if row is None else _row(row)

    def set_status(self, query_id: str, status: str, only_if: tuple[str, ...] = ()) -> bool:
        sql, params = "UPDATE insights_queries SET status = ? WHERE id = ?", [status, query_id]
        if only_if:
            sql += f" AND status IN ({', '.join('?' for _ in only_if)})"
            params += list(only_if)
        return self.db.execute(sql, params) > 0

    def finish(self, query_id: str, status: str, results: Any, statistics: dict[str, Any], at: float) -> None:
        self.db.execute(
            "UPDATE insights_queries SET status = ?, results = ?, statistics = ?, completed = ?"
            " WHERE id = ? AND status IN ('Scheduled', 'Running')",
            (status, json.dumps(results), json.dumps(statistics), at, query_id),
        )

    def recent(self, scope: Scope, status: str | None, limit: int, before: float | None) -> list[StoredQuery]:
        sql = "SELECT * FROM insights_queries WHERE account = ? AND region = ?"
        params: list[Any] = [scope.account, scope.region]
        if status:
            sql += " AND status = ?"
            params.append(status)
        if before is not None:
            sql += " AND created < ?"
            params.append(before)
        rows = self.db.query(sql + " ORDER BY created DESC LIMIT ?", [*params, limit])
        return [_row(r) for r in rows]

    def expire(self, before: float) -> None:
        self.db.execute("DELETE FROM insights_queries WHERE created < ?", (before,))
