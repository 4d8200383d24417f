"""Small resources (clusters, task definitions, rules, targets, log groups) kept as JSON documents by kind and key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TypeVar

from cronbridge.codec import decode, encode
from cronbridge.store.db import Database, schema

T = TypeVar("T")
PAGE = 5000  # documents read per query by iter_all

schema(
    """
    CREATE TABLE IF NOT EXISTS documents (
        kind TEXT NOT NULL, key TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
        seq INTEGER NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, key));
    CREATE INDEX IF NOT EXISTS documents_parent ON documents (kind, parent, key);
    CREATE INDEX IF NOT EXISTS documents_seq ON documents (kind, seq);
    CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """
)


class Documents:
    """Dataclass documents addressed by (kind, key), optionally grouped under a parent key."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, kind: str, key: str, value: Any, parent: str = "") -> None:
        body = json.dumps(encode(value), separators=(",", ":"))
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO documents (kind, key, parent, seq, body) VALUES (?, ?, ?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM documents WHERE kind = ?), ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body, parent = excluded.parent",
                (kind, key, parent, kind, body),
            )

    def get(self, kind: str, key: str, cls: type[T]) -> T | None:
        row = self.db.one("SELECT body FROM documents WHERE kind = ? AND key = ?", (kind, key))
        return None if row is None else decode(cls, json.loads(row["body"]))

    def delete(self, kind: str, key: str) -> bool:
        return self.db.execute("DELETE FROM documents WHERE kind = ? AND key = ?", (kind, key)) > 0

    def delete_children(self, kind: str, parent: str) -> int:
        return self.db.execute("DELETE FROM documents WHERE kind = ? AND parent = ?", (kind, parent))

    def list(
        self, kind: str, cls: type[T], parent: str | None = None, prefix: str = "", after: str = "",
        limit: int = 1_000_000,
    ) -> list[T]:
        """Documents of a kind in key order, optionally under one parent, with a key prefix, after a key."""
        sql = "SELECT body FROM documents WHERE kind = ?"
        params: list[Any] = [kind]
        if after:  # only real bounds: a vacuous key range makes SQLite scan the kind instead of the parent index
            sql += " AND key > ?"
            params.append(after)
        if prefix:
            sql += " AND key >= ? AND key < ?"
            params.extend([prefix, prefix + "\U0010ffff"])
        if parent is not None:
            sql += " AND parent = ?"
            params.append(parent)
        sql += " ORDER BY key LIMIT ?"
        params.append(limit)
        return [decode(cls, json.loads(r["body"])) for r in self.db.query(sql, params)]

    def iter_all(self, kind: str, cls: type[T]) -> Iterator[T]:
        """Every document of a kind, in insertion order, read PAGE rows per query (no long hold of the database
        lock however many there are: a million rules are re-planned while the lease renews)."""
        after = -1
        while True:
            rows = self.db.query(
                "SELECT seq, body FROM documents WHERE kind = ? AND seq > ? ORDER BY seq LIMIT ?", (kind, after, PAGE)
            )
            for row in rows:
                yield decode(cls, json.loads(row["body"]))
            if len(rows) < PAGE:
                return
            after = rows[-1]["seq"]

    def next_value(self, name: str) -> int:
        """A durable counter (task-definition revisions and the like): returns the incremented value."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (name,),
            )
            row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
            return int(row["value"])
