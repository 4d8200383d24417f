"""What server processes sharing one database tell each other: who is alive (peers), who runs which task (task
owners), requests from one process to another (control requests), which cached answers a change made stale (cache
generations), shared secrets, and a feed that wakes a process when another commits. The Protocols are the
contract; the classes below keep them in either engine's tables (SQL both accept), and each engine gives its own
change feed (SQLite: DataVersionFeed below; PostgreSQL: LISTEN/NOTIFY, store/postgres.py)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cronbridge.store.database import Database, Row


@dataclass(frozen=True)
class Peer:
    """A server process: `id` is host:pid:nonce; `started` tells a live process from a later one with its pid."""

    id: str
    host: str
    pid: int
    started: str = ""
    seen_at: float = 0.0


@dataclass(frozen=True)
class ControlRequest:
    id: int
    target: str
    kind: str
    subject: str = ""
    body: dict[str, Any] = field(default_factory=dict)


class Peers(Protocol):
    """Server processes and their heartbeats."""

    def join(self, peer: Peer, now: float) -> None: ...
    def beat(self, peer: Peer, now: float) -> None:
        """Mark `peer` seen now (joining again if its row was removed)."""
        ...
    def leave(self, peer_id: str) -> None: ...
    def all(self) -> list[Peer]: ...
    def get(self, peer_id: str) -> Peer | None: ...


class TaskOwners(Protocol):
    """Which peer runs each unfinished task (a stopped task has no owner)."""

    def claim(self, task_arns: Sequence[str], owner: str) -> None:
        """Called inside the transaction that records the tasks."""
        ...
    def owner(self, task_arn: str) -> str | None: ...
    def owners(self) -> set[str]:
        """Every peer that owns a task."""
        ...
    def owned_by(self, owner: str) -> list[str]: ...
    def owners_of(self, task_arns: Sequence[str]) -> dict[str, str]: ...
    def take_over(self, task_arn: str, previous: str | None, owner: str) -> bool:
        """Become the task's owner if `previous` still is (None: it has none); False when another peer was first."""
        ...


class ControlRequests(Protocol):
    """Requests from one peer to another, acted on by the target and marked done."""

    def send(self, target: str, kind: str, subject: str, body: dict[str, Any], now: float) -> int: ...
    def open_for(self, target: str) -> list[ControlRequest]: ...
    def done(self, request_id: int, now: float) -> None: ...
    def is_done(self, request_id: int) -> bool: ...
    def retarget(self, subject: str, owner: str) -> None:
        """Open requests about `subject` go to its new owner."""
        ...
    def drop_for(self, target: str) -> None:
        """A dead peer's open requests that nobody took over."""
        ...


class CacheGenerations(Protocol):
    """A counter per cache (ecs, iam) that every change to what it caches moves on."""

    def bump(self, name: str) -> None: ...
    def read(self) -> dict[str, int]: ...


class ChangeFeed(Protocol):
    """Wakes a waiting thread when anything may have been committed (by any connection)."""

    def wait(self, timeout: float) -> bool:
        """True when something may have changed since the last call; False after `timeout` with no change."""
        ...

    def close(self) -> None: ...


class TablePeers:
    def __init__(self, db: Database) -> None:
        self.db = db

    def join(self, peer: Peer, now: float) -> None:
        self.db.execute(
            "INSERT INTO peers (id, host, pid, started, joined_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (peer.id, peer.host, peer.pid, peer.started, now, now),
        )

    def beat(self, peer: Peer, now: float) -> None:
        if self.db.execute("UPDATE peers SET seen_at = ? WHERE id = ?", (now, peer.id)) == 0:
            self.join(peer, now)

    def leave(self, peer_id: str) -> None:
        self.db.execute("DELETE FROM peers WHERE id = ?", (peer_id,))

    def all(self) -> list[Peer]:
        return [_peer(r) for r in self.db.query("SELECT * FROM peers ORDER BY id")]

    def get(self, peer_id: str) -> Peer | None:
        row = self.db.one("SELECT * FROM peers WHERE id = ?", (peer_id,))
        return None if row is None else _peer(row)


def _peer(row: Row) -> Peer:
    return Peer(row["id"], row["host"], int(row["pid"]), row["started"], float(row["seen_at"]))


class TableTaskOwners:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, task_arns: Sequence[str], owner: str) -> None:
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO task_owners (task_arn, owner) VALUES (?, ?)"
                " ON CONFLICT (task_arn) DO UPDATE SET owner = excluded.owner",
                [(arn, owner) for arn in task_arns],
            )

    def owner(self, task_arn: str) -> str | None:
        row = self.db.one("SELECT owner FROM task_owners WHERE task_arn = ?", (task_arn,))
        return None if row is None else str(row["owner"])

    def owners(self) -> set[str]:
        return {str(r["owner"]) for r in self.db.query("SELECT DISTINCT owner FROM task_owners")}

    def owned_by(self, owner: str) -> list[str]:
        return [str(r["task_arn"]) for r in self.db.query("SELECT task_arn FROM task_owners WHERE owner = ?", (owner,))]

    def owners_of(self, task_arns: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(task_arns), 500):
            chunk = list(task_arns[start:start + 500])
            rows = self.db.query(
                f"SELECT task_arn, owner FROM task_owners WHERE task_arn IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update({str(r["task_arn"]): str(r["owner"]) for r in rows})
        return found

    def take_over(self, task_arn: str, previous: str | None, owner: str) -> bool:
        with self.db.transaction() as conn:
            if previous is None:
                changed = conn.execute(
                    "INSERT INTO task_owners (task_arn, owner) VALUES (?, ?) ON CONFLICT (task_arn) DO NOTHING",
                    (task_arn, owner),
                ).rowcount
            else:
                changed = conn.execute(
                    "UPDATE task_owners SET owner = ? WHERE task_arn = ? AND owner = ?", (owner, task_arn, previous)
                ).rowcount
        return changed > 0


class TableControlRequests:
    def __init__(self, db: Database) -> None:
        self.db = db

    def send(self, target: str, kind: str, subject: str, body: dict[str, Any], now: float) -> int:
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO control_requests (target, kind, subject, body, created_at) VALUES (?, ?, ?, ?, ?)"
                " RETURNING id",
                (target, kind, subject, json.dumps(body), now),
            ).fetchone()
            return int(row["id"])

    def open_for(self, target: str) -> list[ControlRequest]:
        rows = self.db.query(
            "SELECT id, target, kind, subject, body FROM control_requests WHERE target = ? AND done_at IS NULL"
            " ORDER BY id",
            (target,),
        )
        return [ControlRequest(int(r["id"]), r["target"], r["kind"], r["subject"], json.loads(r["body"])) for r in rows]

    def done(self, request_id: int, now: float) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE control_requests SET done_at = ? WHERE id = ?", (now, request_id))
            conn.execute("DELETE FROM control_requests WHERE done_at < ?", (now - 3600,))  # an hour of history

    def is_done(self, request_id: int) -> bool:
        row = self.db.one("SELECT done_at FROM control_requests WHERE id = ?", (request_id,))
        return row is None or row["done_at"] is not None

    def retarget(self, subject: str, owner: str) -> None:
        self.db.execute(
            "UPDATE control_requests SET target = ? WHERE subject = ? AND done_at IS NULL", (owner, subject)
        )

    def drop_for(self, target: str) -> None:
        self.db.execute("DELETE FROM control_requests WHERE target = ? AND done_at IS NULL", (target,))


class TableCacheGenerations:
    def __init__(self, db: Database) -> None:
        self.db = db

    def bump(self, name: str) -> None:
        self.db.execute(
            "INSERT INTO cache_generations (name, generation) VALUES (?, 1)"
            " ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1",
            (name,),
        )

    def read(self) -> dict[str, int]:
        return {str(r["name"]): int(r["generation"]) for r in self.db.query("SELECT * FROM cache_generations")}


def shared_secret(db: Database, name: str, made: str = "") -> str:
    """A secret made once per database and read by every process (e.g. the task-token key): `made` when given
    (a key an older release kept elsewhere), else a random one; the first process to store it sets it for all."""
    db.execute("INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
               (name, made or secrets.token_hex(32)))
    row = db.one("SELECT value FROM server_secrets WHERE name = ?", (name,))
    assert row is not None
    return str(row["value"])


class DataVersionFeed:
    """SQLite's change feed: PRAGMA data_version on a connection of its own, looked at every `interval` seconds
    (a few microseconds each: it reads shared memory, not the file). It changes whenever any other connection, of
    this process or another, commits."""

    def __init__(self, path: str, interval: float = 0.005) -> None:
        self.interval = interval
        self._conn: sqlite3.Connection | None = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._version = self._read(self._conn)
        self._closed = threading.Event()

    @staticmethod
    def _read(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def wait(self, timeout: float) -> bool:
        """(Called by one thread only: the connection is its own.)"""
        waited = 0.0
        while not self._closed.is_set() and self._conn is not None:
            version = self._read(self._conn)
            if version != self._version:
                self._version = version
                return True
            if waited >= timeout:
                return False
            self._closed.wait(self.interval)
            waited += self.interval
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        return False

    def close(self) -> None:
        """The waiting thread closes the connection on its way out."""
        self._closed.set()
