"""Small resources (clusters, task definitions, rules, targets, schedules) kept as JSON documents by kind, account,
Region and key."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from cronbridge.codec import decode, encode
from cronbridge.scope import Scope
from cronbridge.store.database import Database

T = TypeVar("T")
PAGE = 5000  # documents read per query by iter_all


class Documents:
    """Dataclass documents addressed by (kind, scope, key), optionally grouped under a parent key; a key is unique
    within its account and Region only."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._key = db.dialect.key

    def put(self, kind: str, scope: Scope, key: str, value: Any, parent: str = "") -> None:
        body = json.dumps(encode(value), separators=(",", ":"))
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO documents (kind, account, region, key, parent, seq, body) VALUES (?, ?, ?, ?, ?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM documents WHERE kind = ?), ?) "
                "ON CONFLICT (kind, account, region, key) DO UPDATE SET body = excluded.body, parent = excluded.parent",
                (kind, scope.account, scope.region, self._key(key), self._key(parent), kind, body),
            )

    def get(self, kind: str, scope: Scope, key: str, cls: type[T]) -> T | None:
        row = self.db.one(
            "SELECT body FROM documents WHERE kind = ? AND account = ? AND region = ? AND key = ?",
            (kind, scope.account, scope.region, self._key(key)),
        )
        return None if row is None else decode(cls, json.loads(row["body"]))

    def delete(self, kind: str, scope: Scope, key: str) -> bool:
        return self.db.execute(
            "DELETE FROM documents WHERE kind = ? AND account = ? AND region = ? AND key = ?",
            (kind, scope.account, scope.region, self._key(key)),
        ) > 0

    def delete_children(self, kind: str, scope: Scope, parent: str) -> int:
        return self.db.execute(
            "DELETE FROM documents WHERE kind = ? AND account = ? AND region = ? AND parent = ?",
            (kind, scope.account, scope.region, self._key(parent)),
        )

    def list(
        self, kind: str, cls: type[T], scope: Scope, parent: str | None = None, prefix: str = "", after: str = "",
        limit: int = 1_000_000,
    ) -> list[T]:
        """Documents of a kind in one account and Region in key order, optionally under one parent, with a key
        prefix, after a key."""
        sql = "SELECT body FROM documents WHERE kind = ? AND account = ? AND region = ?"
        params: list[Any] = [kind, scope.account, scope.region]
        if after:  # only real bounds: a vacuous key range makes SQLite scan the kind instead of the parent index
            sql += " AND key > ?"
            params.append(self._key(after))
        if prefix:
            sql += " AND key >= ? AND key < ?"
            params.extend([self._key(prefix), self._key(prefix) + "\U0010ffff"])
        if parent is not None:
            sql += " AND parent = ?"
            params.append(self._key(parent))
        sql += " ORDER BY key LIMIT ?"
        params.append(limit)
        return [decode(cls, json.loads(r["body"])) for r in self.db.query(sql, params)]

    def children(
        self, kind: str, cls: type[T], scope: Scope, parents: Sequence[str]
    ) -> dict[str, builtins.list[T]]:
        """The documents of a kind in one account and Region under each of `parents`, in key order (one query per
        500 parents: planning a page of rules reads their targets at once, not rule by rule)."""
        found: dict[str, builtins.list[T]] = {parent: [] for parent in parents}
        stored = {self._key(parent): parent for parent in parents}
        for start in range(0, len(parents), 500):
            chunk = [self._key(p) for p in parents[start:start + 500]]
            rows = self.db.query(
                "SELECT parent, body FROM documents WHERE kind = ? AND account = ? AND region = ?"
                f" AND parent IN ({','.join('?' * len(chunk))}) ORDER BY parent, key",
                [kind, scope.account, scope.region, *chunk],
            )
            for row in rows:
                found[stored[row["parent"]]].append(decode(cls, json.loads(row["body"])))
        return found

    def by_parent(self, kind: str, cls: type[T], scope: Scope) -> dict[str, builtins.list[T]]:
        """Every document of a kind in one account and Region grouped by parent, in key order (one query: a rule
        index built at once)."""
        grouped: dict[str, builtins.list[T]] = {}
        rows = self.db.query(
            "SELECT parent, body FROM documents WHERE kind = ? AND account = ? AND region = ? ORDER BY key",
            (kind, scope.account, scope.region),
        )
        for row in rows:
            parent = self.db.dialect.unkey(row["parent"])
            grouped.setdefault(parent, []).append(decode(cls, json.loads(row["body"])))
        return grouped

    def iter_all(self, kind: str, cls: type[T]) -> Iterator[T]:
        """Every document of a kind in every account and Region, in insertion order, read PAGE rows per query (no
        long hold of the database lock however many there are: a million rules are re-planned while the lease
        renews). Pages go by (seq, account, region, key): two writers of PostgreSQL may give two documents one
        seq."""
        after: tuple[int, str, str, str] = (-1, "", "", "")
        while True:
            rows = self.db.query(
                "SELECT seq, account, region, key, body FROM documents WHERE kind = ? AND seq >= ?"
                " AND (seq > ? OR (account, region, key) > (?, ?, ?)) ORDER BY seq, account, region, key LIMIT ?",
                (kind, after[0], after[0], *after[1:], PAGE),
            )
            for row in rows:
                yield decode(cls, json.loads(row["body"]))
            if len(rows) < PAGE:
                return
            last = rows[-1]
            after = (last["seq"], last["account"], last["region"], last["key"])

    def next_value(self, name: str) -> int:
        """A durable counter (task-definition revisions and the like): returns the incremented value."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
                (name,),
            ).fetchone()
            return int(row["value"])
