"""Log groups, streams and events in SQLite; events indexed by (stream|group, timestamp, id)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any

import orjson

from cronbridge.model.logs import LogEvent, LogGroup, LogStream, Position, Substrings
from cronbridge.scope import Scope
from cronbridge.store.database import Database, Dialect, Row

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


def _group(row: Row) -> LogGroup:
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


def _stream(row: Row) -> LogStream:
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


def _event(row: Row, stream_name: str = "") -> LogEvent:
    return LogEvent(row["ts"], row["message"], row["ingestion"], row["id"], stream_name)


def substring_clause(dialect: Dialect, where: Substrings) -> tuple[str, list[Any]]:
    """A WHERE clause over column `message` selecting what contains `where`'s substrings, and its parameters."""
    has = dialect.contains("message")
    clauses = [has] * len(where.required) + [f"NOT {has}"] * len(where.excluded)
    if where.optional:
        clauses.append("(" + " OR ".join([has] * len(where.optional)) + ")")
    return " AND ".join(clauses) or "1 = 1", [*where.required, *where.excluded, *where.optional]


def _key(position: Position) -> tuple[int, int]:
    return position.timestamp, position.event_id


class LogStore:
    """Groups (of one account and Region), their streams and events; every method is one short transaction (or one
    statement)."""

    def __init__(self, db: Database, scope: Scope) -> None:
        self.db = db
        self.where = (scope.account, scope.region)  # the group columns every group lookup filters on

    # groups

    def insert_group(self, group: LogGroup) -> bool:
        """Add a group; False when one with that name exists already."""
        changed = self.db.execute(
            "INSERT INTO log_groups (account, region, name, creation_time, retention_in_days, kms_key_id,"
            " log_group_class, tags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) DO NOTHING",
            (
                *self.where,
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
        row = self.db.one(
            f"SELECT {_GROUP_COLUMNS} FROM log_groups g WHERE g.account = ? AND g.region = ? AND g.name = ?",
            (*self.where, name),
        )
        return None if row is None else _group(row)

    def group_id(self, name: str) -> int | None:
        row = self.db.one(
            "SELECT id FROM log_groups WHERE account = ? AND region = ? AND name = ?", (*self.where, name)
        )
        return None if row is None else int(row["id"])

    def groups(self, prefix: str = "", contains: str = "", after: str = "", limit: int = 50) -> list[LogGroup]:
        """Groups by name: with a prefix, containing a substring (any case), after a name."""
        sql = (
            f"SELECT {_GROUP_COLUMNS} FROM log_groups g"
            " WHERE g.account = ? AND g.region = ? AND g.name >= ? AND g.name < ? AND g.name > ?"
            f" AND {self.db.dialect.contains('lower(g.name)', 'lower(?)')} ORDER BY g.name LIMIT ?"
        )
        rows = self.db.query(sql, (*self.where, prefix, prefix + _LAST, after, contains, limit))
        return [_group(r) for r in rows]

    def delete_group(self, name: str) -> bool:
        """Remove a group with its streams and events; False when there was no such group."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM log_groups WHERE account = ? AND region = ? AND name = ?", (*self.where, name)
            ).fetchone()
            if row is None:
                return False
            for table in ("log_events", "log_streams"):
                conn.execute(f"DELETE FROM {table} WHERE group_id = ?", (row["id"],))
            conn.execute("DELETE FROM log_groups WHERE id = ?", (row["id"],))
            return True

    def set_retention(self, name: str, days: int | None) -> bool:
        return (
            self.db.execute(
                "UPDATE log_groups SET retention_in_days = ? WHERE account = ? AND region = ? AND name = ?",
                (days, *self.where, name),
            )
            > 0
        )

    def set_tags(self, name: str, tags: dict[str, str]) -> bool:
        return (
            self.db.execute(
                "UPDATE log_groups SET tags = ? WHERE account = ? AND region = ? AND name = ?",
                (json.dumps(tags), *self.where, name),
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
            " WHERE g.account = ? AND g.region = ? AND g.name = ? AND s.name = ?",
            (*self.where, group, name),
        )
        return None if row is None else _stream(row)

    def stream_and_retention(self, group: str, name: str) -> tuple[LogStream, int | None] | None:
        """A stream with its group's retention in days (PutLogEvents needs both): one indexed read."""
        row = self.db.one(
            f"SELECT {_STREAM_COLUMNS}, g.retention_in_days FROM log_streams s JOIN log_groups g ON g.id = s.group_id"
            " WHERE g.account = ? AND g.region = ? AND g.name = ? AND s.name = ?",
            (*self.where, group, name),
        )
        return None if row is None else (_stream(row), row["retention_in_days"])

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
        sql = f"SELECT {_STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE s.group_id = ?"
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

    def append(self, stream: LogStream, events: Sequence[tuple[int, str]], ingestion: int, size: int) -> int:
        """Insert events (one statement), update the stream's aggregates; the new sequence."""
        if not events:
            return stream.sequence
        stamps = list(map(itemgetter(0), events))
        first, last = min(stamps), max(stamps)
        with self.db.transaction() as conn:
            if self.db.dialect.name == "sqlite":
                batch = _batch_text(events)  # one parameter expanded by SQLite (json_each): no per-row binding
                conn.execute(
                    "INSERT INTO log_events (group_id, stream_id, ts, ingestion, message)"
                    " SELECT ?, ?, json_extract(value, '$[0]'), ?, json_extract(value, '$[1]') FROM json_each(?)",
                    (stream.group_id, stream.stream_id, ingestion, batch),
                )
            else:  # in order, one row each (PostgreSQL's text holds no NUL)
                text = self.db.dialect.text
                conn.executemany(
                    "INSERT INTO log_events (group_id, stream_id, ts, ingestion, message) VALUES (?, ?, ?, ?, ?)",
                    [(stream.group_id, stream.stream_id, ts, ingestion, text(message)) for ts, message in events],
                )
            row = conn.execute(
                "UPDATE log_streams SET first_ts = CASE WHEN first_ts IS NULL OR first_ts > ? THEN ? ELSE first_ts END,"
                " last_ts = CASE WHEN last_ts IS NULL OR last_ts < ? THEN ? ELSE last_ts END, last_ingestion = ?,"
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
        where: Substrings | None,
        limit: int,
    ) -> list[tuple[int, LogEvent]]:
        """A group's events after `after`, start <= ts <= end, containing `where`'s substrings, with stream ids."""
        sql = (
            "SELECT id, stream_id, ts, ingestion, message FROM log_events WHERE group_id = ?"
            " AND (ts, id) > (?, ?) AND ts <= ?"
        )
        params: list[Any] = [group_id, *max(_key(after), (start, -1)), end]  # one lower bound: an index seek
        if stream_ids is not None:
            sql += f" AND stream_id IN ({','.join('?' * len(stream_ids))})"
            params.extend(stream_ids)
        if where is not None:
            clause, values = substring_clause(self.db.dialect, where)
            sql += f" AND ({clause})"
            params.extend(values)
        sql += " ORDER BY ts, id LIMIT ?"
        return [(r["stream_id"], _event(r)) for r in self.db.query(sql, [*params, limit])]


SCAN_PAGE = 20_000


def scan_events(db: Database, group_id: int, start: int, end: int) -> Iterator[tuple[int, int, int, str, int]]:
    """A group's events with start <= timestamp < end as (id, stream id, timestamp, message, ingestion), read a page
    at a time in (timestamp, id) order along the group's index (the database lock is never held for the whole scan)."""
    position = (start, -1)
    while True:
        rows = db.query(
            "SELECT id, stream_id, ts, message, ingestion FROM log_events"
            " WHERE group_id = ? AND (ts, id) > (?, ?) AND ts < ? ORDER BY ts, id LIMIT ?",
            (group_id, position[0], position[1], end, SCAN_PAGE),
        )
        for row in rows:
            yield row[0], row[1], row[2], row[3], row[4]
        if len(rows) < SCAN_PAGE:
            return
        position = (rows[-1][2], rows[-1][0])


def _batch_text(events: Sequence[tuple[int, str]]) -> str:
    """Events as one JSON array of [timestamp, message] (orjson: a tenth of `json`'s time); `json` for what orjson
    refuses (an integer past 64 bits, a string holding a lone surrogate)."""
    try:
        return orjson.dumps(events).decode()
    except orjson.JSONEncodeError:
        return json.dumps(events)
