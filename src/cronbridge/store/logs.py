"""Log groups, streams and events in SQLite; events indexed by (stream|group, timestamp, id)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from cronbridge.model.logs import LogEvent, LogGroup, LogStream, Position
from cronbridge.store.db import Database, schema

schema(
    """
    CREATE TABLE IF NOT EXISTS log_groups (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, creation_time INTEGER NOT NULL,
        retention_in_days INTEGER, kms_key_id TEXT, log_group_class TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE IF NOT EXISTS log_streams (
        id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, name TEXT NOT NULL,
        creation_time INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER, last_ingestion INTEGER,
        stored_bytes INTEGER NOT NULL DEFAULT 0, sequence INTEGER NOT NULL DEFAULT 0,
        UNIQUE (group_id, name));
    CREATE TABLE IF NOT EXISTS log_events (
        id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, stream_id INTEGER NOT NULL,
        ts INTEGER NOT NULL, ingestion INTEGER NOT NULL, message TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS log_events_stream ON log_events (stream_id, ts, id);
    CREATE INDEX IF NOT EXISTS log_events_group ON log_events (group_id, ts, id);
    """
)

END_OF_TIME = 2**62
_LAST = "\U0010ffff"
_GROUP_COLUMNS = (
    "g.id, g.name, g.creation_time, g.retention_in_days, g.kms_key_id, g.log_group_class, g.tags, "
    "(SELECT COALESCE(SUM(s.stored_bytes), 0) FROM log_streams s WHERE s.group_id = g.id) AS stored"
)
_STREAM_COLUMNS = (
    "s.id, s.group_id, g.name AS group_name, s.name, s.creation_time, s.first_ts, s.last_ts, "
    "s.last_ingestion, s.stored_bytes, s.sequence"
)


def _group(row: sqlite3.Row) -> LogGroup:
    return LogGroup(
        name=row["name"],
        creation_time=row["creation_time"],
        retention_in_days=row["retention_in_days"],
        kms_key_id=row["kms_key_id"],
        log_group_class=row["log_group_class"],
        tags=json.loads(row["tags"]),
        stored_bytes=row["stored"],
        group_id=row["id"],
    )


def _stream(row: sqlite3.Row) -> LogStream:
    return LogStream(
        group_name=row["group_name"],
        name=row["name"],
        creation_time=row["creation_time"],
        first_event_timestamp=row["first_ts"],
        last_event_timestamp=row["last_ts"],
        last_ingestion_time=row["last_ingestion"],
        stored_bytes=row["stored_bytes"],
        stream_id=row["id"],
        group_id=row["group_id"],
        sequence=row["sequence"],
    )


def _event(row: sqlite3.Row, stream_name: str = "") -> LogEvent:
    return LogEvent(row["ts"], row["message"], row["ingestion"], row["id"], stream_name)


def _key(position: Position) -> tuple[int, int]:
    return position.timestamp, position.event_id


class LogStore:
    """Groups, streams and events; every method is one short transaction (or one statement)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # groups

    def insert_group(self, group: LogGroup) -> bool:
        """Add a group; False when one with that name exists already."""
        changed = self.db.execute(
            "INSERT INTO log_groups (name, creation_time, retention_in_days, kms_key_id,"
            " log_group_class, tags)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (
                group.name,
                group.creation_time,
                group.retention_in_days,
                group.kms_key_id,
                group.log_group_class,
                json.dumps(group.tags),
            ),
        )
        return changed > 0

    def group(self, name: str) -> LogGroup | None:
        row = self.db.one(f"SELECT {_GROUP_COLUMNS} FROM log_groups g WHERE g.name = ?", (name,))
        return None if row is None else _group(row)

    def group_id(self, name: str) -> int | None:
        row = self.db.one("SELECT id FROM log_groups WHERE name = ?", (name,))
        return None if row is None else int(row["id"])

    def groups(
        self, prefix: str = "", contains: str = "", after: str = "", limit: int = 50
    ) -> list[LogGroup]:
        """Groups by name: with a prefix, containing a substring (any case), after a name."""
        sql = (
            f"SELECT {_GROUP_COLUMNS} FROM log_groups g"
            " WHERE g.name >= ? AND g.name < ? AND g.name > ?"
            " AND instr(lower(g.name), lower(?)) > 0 ORDER BY g.name LIMIT ?"
        )
        rows = self.db.query(sql, (prefix, prefix + _LAST, after, contains, limit))
        return [_group(r) for r in rows]

    def delete_group(self, name: str) -> bool:
        """Remove a group with its streams and events; False when there was no such group."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT id FROM log_groups WHERE name = ?", (name,)).fetchone()
            if row is None:
                return False
            for table in ("log_events", "log_streams"):
                conn.execute(f"DELETE FROM {table} WHERE group_id = ?", (row["id"],))
            conn.execute("DELETE FROM log_groups WHERE id = ?", (row["id"],))
            return True

    def set_retention(self, name: str, days: int | None) -> bool:
        return (
            self.db.execute(
                "UPDATE log_groups SET retention_in_days = ? WHERE name = ?", (days, name)
            )
            > 0
        )

    def set_tags(self, name: str, tags: dict[str, str]) -> bool:
        return (
            self.db.execute(
                "UPDATE log_groups SET tags = ? WHERE name = ?", (json.dumps(tags), name)
            )
            > 0
        )

    # streams

    def insert_stream(self, group_id: int, name: str, creation_time: int) -> bool:
        """Add a stream to a group; False when the group has one with that name already."""
        changed = self.db.execute(
            "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)"
            " ON CONFLICT (group_id, name) DO NOTHING",
            (group_id, name, creation_time),
        )
        return changed > 0

    def stream(self, group: str, name: str) -> LogStream | None:
        row = self.db.one(
            f"SELECT {_STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id"
            " WHERE g.name = ? AND s.name = ?",
            (group, name),
        )
        return None if row is None else _stream(row)

    def streams_by_name(
        self,
        group_id: int,
        prefix: str = "",
        after: str | None = None,
        descending: bool = False,
        limit: int = 50,
    ) -> list[LogStream]:
        """A group's streams in name order (or reverse), with a prefix, after a name."""
        op, order = ("<", "DESC") if descending else (">", "ASC")
        sql = (
            f"SELECT {_STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id"
            " WHERE s.group_id = ? AND s.name >= ? AND s.name < ?"
        )
        params: list[Any] = [group_id, prefix, prefix + _LAST]
        if after is not None:
            sql += f" AND s.name {op} ?"
            params.append(after)
        sql += f" ORDER BY s.name {order} LIMIT ?"
        return [_stream(r) for r in self.db.query(sql, [*params, limit])]

    def streams_by_time(
        self,
        group_id: int,
        after: tuple[int, str] | None = None,
        descending: bool = False,
        limit: int = 50,
    ) -> list[LogStream]:
        """A group's streams by last event time (streams without events count as 0), then name."""
        op, order = ("<", "DESC") if descending else (">", "ASC")
        key = "COALESCE(s.last_ts, 0)"
        sql = (
            f"SELECT {_STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id"
            " WHERE s.group_id = ?"
        )
        params: list[Any] = [group_id]
        if after is not None:
            sql += f" AND ({key}, s.name) {op} (?, ?)"
            params.extend(after)
        sql += f" ORDER BY {key} {order}, s.name {order} LIMIT ?"
        return [_stream(r) for r in self.db.query(sql, [*params, limit])]

    def stream_names(self, group_id: int, ids: Sequence[int] | None = None) -> dict[int, str]:
        """Stream id -> name for a group (all of them, or the given ids)."""
        rows = self.db.query("SELECT id, name FROM log_streams WHERE group_id = ?", (group_id,))
        wanted = None if ids is None else set(ids)
        return {r["id"]: r["name"] for r in rows if wanted is None or r["id"] in wanted}

    def delete_stream(self, group_id: int, name: str) -> bool:
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM log_streams WHERE group_id = ? AND name = ?", (group_id, name)
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM log_events WHERE stream_id = ?", (row["id"],))
            conn.execute("DELETE FROM log_streams WHERE id = ?", (row["id"],))
            return True

    # events

    def append(
        self, stream: LogStream, events: Sequence[tuple[int, str]], ingestion: int, size: int
    ) -> int:
        """Insert events (one executemany), update the stream's aggregates; the new sequence."""
        if not events:
            return stream.sequence
        first = min(ts for ts, _ in events)
        last = max(ts for ts, _ in events)
        rows = (
            (stream.group_id, stream.stream_id, ts, ingestion, message) for ts, message in events
        )
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO log_events (group_id, stream_id, ts, ingestion, message)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            row = conn.execute(
                "UPDATE log_streams SET first_ts = MIN(COALESCE(first_ts, ?), ?),"
                " last_ts = MAX(COALESCE(last_ts, ?), ?), last_ingestion = ?,"
                " stored_bytes = stored_bytes + ?, sequence = sequence + 1"
                " WHERE id = ? RETURNING sequence",
                (first, first, last, last, ingestion, size, stream.stream_id),
            ).fetchone()
        return int(row["sequence"]) if row is not None else stream.sequence

    def events_after(
        self,
        stream_id: int,
        position: Position,
        start: int = 0,
        end: int = END_OF_TIME,
        limit: int = 10_000,
    ) -> list[LogEvent]:
        """The first `limit` events after `position`, start <= timestamp < end, in order."""
        low = max(_key(position), (start, -1))  # one lower bound, so the index seeks straight to it
        rows = self.db.query(
            "SELECT id, ts, ingestion, message FROM log_events"
            " WHERE stream_id = ? AND (ts, id) > (?, ?) AND ts < ? ORDER BY ts, id LIMIT ?",
            (stream_id, *low, end, limit),
        )
        return [_event(r) for r in rows]

    def events_before(
        self,
        stream_id: int,
        position: Position | None,
        start: int = 0,
        end: int = END_OF_TIME,
        limit: int = 10_000,
    ) -> list[LogEvent]:
        """The last `limit` events before `position` (None: the end), start <= ts < end."""
        before = position or Position(END_OF_TIME, 0)
        rows = self.db.query(
            "SELECT id, ts, ingestion, message FROM log_events"
            " WHERE stream_id = ? AND (ts, id) < (?, ?)"
            " AND ts >= ? AND ts <= ? ORDER BY ts DESC, id DESC LIMIT ?",
            (stream_id, *_key(before), start, min(end - 1, before.timestamp), limit),
        )
        return [_event(r) for r in reversed(rows)]

    def scan(
        self,
        group_id: int,
        after: Position,
        start: int,
        end: int,
        stream_ids: Sequence[int] | None,
        where: tuple[str, list[Any]] | None,
        limit: int,
    ) -> list[tuple[int, LogEvent]]:
        """A group's events after `after`, start <= ts <= end, matching `where`, with stream ids."""
        sql = (
            "SELECT id, stream_id, ts, ingestion, message FROM log_events WHERE group_id = ?"
            " AND (ts, id) > (?, ?) AND ts <= ?"
        )
        params: list[Any] = [group_id, *max(_key(after), (start, -1)), end]  # one lower bound: an index seek
        if stream_ids is not None:
            sql += f" AND stream_id IN ({','.join('?' * len(stream_ids))})"
            params.extend(stream_ids)
        if where is not None:
            sql += f" AND ({where[0]})"
            params.extend(where[1])
        sql += " ORDER BY ts, id LIMIT ?"
        return [(r["stream_id"], _event(r)) for r in self.db.query(sql, [*params, limit])]
