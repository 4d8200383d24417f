"""The awslogs driver: line splitting (events of at most 262,118 bytes, never cutting a UTF-8 character), and a
writer that survives a full disk, keeping lines (bounded) and counting what it must drop."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.ecs.runtime import awslogs
from cronbridge.ecs.runtime.awslogs import MAX_MESSAGE_BYTES, AwsLogsWriter, split_message


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=40), st.integers(min_value=0, max_value=3), st.sampled_from(["a", "é", "€", "😀"]))
def test_pieces_fit_and_join_back(prefix: str, filler_len: int, char: str) -> None:
    line = prefix + char * (MAX_MESSAGE_BYTES // len(char.encode()) + filler_len * 7919)
    pieces = split_message(line)
    assert "".join(pieces) == line
    assert all(0 < len(p.encode()) <= MAX_MESSAGE_BYTES for p in pieces)


def test_a_short_line_is_one_event() -> None:
    assert split_message("hello") == ["hello"]


class Store:
    """Where the writer appends: a real list, and a disk that can be full (SQLite's own error when it is)."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.full = False
        self.lock = threading.Lock()

    def append(self, group: str, stream: str, batch: Sequence[tuple[int, str]]) -> None:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        with self.lock:
            self.events.extend(message for _, message in batch)


def test_lines_written_while_the_disk_is_full_are_kept_and_stored_once_there_is_room() -> None:
    store = Store()
    writer = AwsLogsWriter(store.append, "/g", "s")
    writer.write(1.0, "before")
    writer.flush()
    store.full = True
    for i in range(3000):  # the writer flushes on size, is refused, and keeps every line
        writer.write(2.0, f"line {i}")
    assert writer.flush() is False and writer.dropped == 0
    store.full = False
    writer.write(3.0, "after")
    writer.close(grace=5)
    assert store.events == ["before", *(f"line {i}" for i in range(3000)), "after"]
    assert writer.loss() is None


def test_past_its_bound_the_writer_drops_the_oldest_lines_and_says_how_many(monkeypatch: Any,
                                                                            caplog: Any) -> None:
    monkeypatch.setattr(awslogs, "HELD_EVENTS", 100)
    store = Store()
    store.full = True
    writer = AwsLogsWriter(store.append, "/g", "s")
    for i in range(250):
        writer.write(1.0, f"line {i}")
    writer.close(grace=0.1)  # still full at the container's end: what is held is lost too
    assert writer.dropped == 250
    assert writer.loss() == "250 log lines were lost: the disk was full"
    assert any("250 lines of /g/s lost" in r.getMessage() for r in caplog.records)


def test_a_store_that_fails_otherwise_costs_lines_not_the_writer() -> None:
    def broken(group: str, stream: str, batch: Sequence[tuple[int, str]]) -> None:
        raise RuntimeError("a bug of ours")

    writer = AwsLogsWriter(broken, "/g", "s")
    for i in range(1500):
        writer.write(1.0, f"line {i}")  # no exception reaches the caller (the launcher's pump)
    writer.close(grace=0)
    assert writer.dropped == 1500


def test_a_line_written_after_close_is_stored_too() -> None:
    store = Store()
    writer = AwsLogsWriter(store.append, "/g", "s")
    writer.write(1.0, "first")
    writer.close()  # the container exited; a pump still reading its last lines comes after
    writer.write(2.0, "late")
    assert store.events == ["first", "late"]
