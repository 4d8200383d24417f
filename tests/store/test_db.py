"""The database wrapper on a real SQLite file: nested transactions join, savepoints undo only their own writes,
callbacks run after a commit (never after a rollback), and data_version is read once per write transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from cronbridge.store.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    made = Database(tmp_path / "state.db")
    made.conn.execute("CREATE TABLE t (v INTEGER)")
    return made


def values(db: Database) -> list[int]:
    return [int(r["v"]) for r in db.query("SELECT v FROM t ORDER BY v")]


def test_a_failing_savepoint_undoes_its_own_writes_and_the_outer_transaction_keeps_the_rest(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError), db.savepoint() as inner:
            inner.execute("INSERT INTO t VALUES (2)")
            raise ValueError("this RunTask failed")
        with db.savepoint() as inner:
            inner.execute("INSERT INTO t VALUES (3)")
    assert values(db) == [1, 3]


def test_an_error_in_a_nested_transaction_rolls_back_the_whole_transaction(db: Database) -> None:
    with pytest.raises(ValueError), db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        with db.transaction() as inner:
            inner.execute("INSERT INTO t VALUES (2)")
        raise ValueError("boom")
    assert values(db) == []


def test_a_savepoint_outside_a_transaction_is_a_transaction(db: Database) -> None:
    with db.savepoint() as conn:
        conn.execute("INSERT INTO t VALUES (7)")
    assert not db.conn.in_transaction
    assert values(db) == [7]


def test_after_commit_callbacks_run_once_committed_and_never_for_undone_work(db: Database) -> None:
    ran: list[str] = []
    with db.transaction():
        db.after_commit(lambda: ran.append("kept"))
        with pytest.raises(ValueError), db.savepoint():
            db.after_commit(lambda: ran.append("undone"))
            raise ValueError("undone")
        assert ran == []
    assert ran == ["kept"]
    with pytest.raises(ValueError), db.transaction():
        db.after_commit(lambda: ran.append("rolled back"))
        raise ValueError("rolled back")
    db.after_commit(lambda: ran.append("outside"))
    assert ran == ["kept", "outside"]


def test_data_version_sees_another_process_commit_but_is_read_once_per_write_transaction(tmp_path: Path) -> None:
    db, other = Database(tmp_path / "s.db"), Database(tmp_path / "s.db")
    before = db.data_version()
    other.conn.execute("CREATE TABLE x (v)")
    assert db.data_version() != before  # another connection committed
    with db.transaction():
        inside = db.data_version()
        assert db.data_version() == inside  # no other connection can commit while we hold the write lock
    other.close()
    db.close()
