"""LogStore on both engines (a SQLite file, a PostgreSQL): batches, aggregates, and reads that use the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from cronbridge.model.logs import LogGroup, LogStream, Position, Substrings
from cronbridge.scope import HOME
from cronbridge.store.database import open_database
from cronbridge.store.db import SqliteDatabase
from cronbridge.store.logs import LogStore


@pytest.fixture
def store(database_location: str) -> LogStore:
    return LogStore(open_database(database_location), HOME)


def make_stream(store: LogStore, group: str = "g", name: str = "s") -> LogStream:
    if store.group_id(group) is None:
        store.insert_group(LogGroup(group, 1))
    group_id = store.group_id(group)
    assert group_id is not None
    store.insert_stream(group_id, name, 2)
    stream = store.stream(group, name)
    assert stream is not None
    return stream


def test_inserting_a_group_or_stream_twice_reports_the_conflict(store: LogStore) -> None:
    assert store.insert_group(LogGroup("g", 1, tags={"k": "v"}))
    assert not store.insert_group(LogGroup("g", 5))
    group = store.group("g")
    assert group is not None and group.creation_time == 1 and group.tags == {"k": "v"}
    make_stream(store)
    assert not store.insert_stream(group.group_id, "s", 3)


def test_a_batch_lands_in_one_transaction_and_updates_the_aggregates(store: LogStore) -> None:
    stream = make_stream(store)
    sequence = store.append(stream, [(10, "a"), (5, "b")], ingestion=99, size=30)
    after = store.stream("g", "s")
    assert after is not None and sequence == 1
    assert (after.first_event_timestamp, after.last_event_timestamp) == (5, 10)
    assert (after.last_ingestion_time, after.stored_bytes) == (99, 30)


def test_reads_after_and_before_a_position_follow_timestamp_then_id(store: LogStore) -> None:
    stream = make_stream(store)
    store.append(stream, [(1, "a"), (1, "b"), (2, "c"), (3, "d")], 0, 4)
    first_two = store.events_after(stream.stream_id, Position(), limit=2)
    assert [e.message for e in first_two] == ["a", "b"]
    rest = store.events_after(stream.stream_id, first_two[-1].position)
    assert [e.message for e in rest] == ["c", "d"]
    before = store.events_before(stream.stream_id, rest[0].position)
    assert [e.message for e in before] == ["a", "b"]
    assert [e.message for e in store.events_before(stream.stream_id, None, limit=1)] == ["d"]


def test_reading_a_page_uses_the_stream_index_instead_of_scanning(tmp_path: Path) -> None:
    store = LogStore(SqliteDatabase(tmp_path / "plan.db"), HOME)
    plan = store.db.query(
        "EXPLAIN QUERY PLAN SELECT id FROM log_events WHERE stream_id = ? AND (ts, id) > (?, ?)"
        " AND ts >= ? AND ts < ? ORDER BY ts, id LIMIT ?",
        (1, 0, 0, 0, 10, 10),
    )
    detail = " ".join(r["detail"] for r in plan)
    assert "INDEX log_events_stream" in detail and "TEMP B-TREE" not in detail


def test_scanning_a_group_filters_by_stream_and_clause(store: LogStore) -> None:
    one, two = make_stream(store, name="one"), make_stream(store, name="two")
    store.append(one, [(1, "x ERROR"), (3, "ok")], 0, 2)
    store.append(two, [(2, "ERROR y")], 0, 1)
    found = store.scan(one.group_id, Position(), 0, 10, None, Substrings(required=("ERROR",)), 10)
    expected = [(one.stream_id, "x ERROR"), (two.stream_id, "ERROR y")]
    assert [(sid, e.message) for sid, e in found] == expected
    only_two = store.scan(one.group_id, Position(), 0, 10, [two.stream_id], None, 10)
    assert [e.message for _, e in only_two] == ["ERROR y"]


def test_deleting_a_group_removes_its_streams_and_events(store: LogStore) -> None:
    stream = make_stream(store)
    store.append(stream, [(1, "a")], 0, 1)
    assert store.delete_group("g") and not store.delete_group("g")
    assert store.db.one("SELECT COUNT(*) AS n FROM log_events")["n"] == 0  # type: ignore[index]
    assert store.stream("g", "s") is None
