"""The database on both engines (a real SQLite file, a real PostgreSQL): nested transactions join, savepoints undo
only their own writes, callbacks run after a commit (never after a rollback), another process's commit is noticed,
and each engine keeps the repositories' spelling (placeholders, rows by name or position)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cronbridge.store.database import Database, open_database, shown
from cronbridge.store.db import SqliteDatabase


@pytest.fixture
def db(database_location: str) -> Iterator[Database]:
    made = open_database(database_location)
    made.execute("CREATE TABLE t (v INTEGER)")
    yield made
    made.close()


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


def test_a_failed_statement_in_a_savepoint_leaves_the_outer_transaction_usable(db: Database) -> None:
    db.execute("CREATE TABLE u (k TEXT PRIMARY KEY)")
    with db.transaction() as conn:
        conn.execute("INSERT INTO u VALUES ('a')")
        with pytest.raises(Exception, match="(?i)unique"), db.savepoint() as inner:
            inner.execute("INSERT INTO u VALUES ('a')")
        conn.execute("INSERT INTO u VALUES ('b')")
    assert [r[0] for r in db.query("SELECT k FROM u ORDER BY k")] == ["a", "b"]


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
        assert db.in_transaction()
    assert not db.in_transaction()
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


def test_placeholders_percent_signs_and_rows_by_name_or_position(db: Database) -> None:
    db.executemany("INSERT INTO t VALUES (?)", [(5,), (6,)])
    row = db.one("SELECT COUNT(*) AS n, SUM(v) AS total, '100%' AS text FROM t WHERE v >= ?", (5,))
    assert (row["n"], row[0], row["total"], row["text"]) == (2, 2, 11, "100%")
    assert isinstance(row["total"], int)  # SUM of integers reads as an int on both engines
    assert db.one("SELECT v FROM t WHERE v = ?", (99,)) is None
    assert db.execute("UPDATE t SET v = v + 1 WHERE v > ?", (0,)) == 2


def test_another_process_commit_changes_data_version(database_location: str) -> None:
    db, other = open_database(database_location), open_database(database_location)
    try:
        before = db.data_version()
        other.execute("CREATE TABLE x (v INTEGER)")
        deadline = time.monotonic() + 10
        while db.data_version() == before:  # PostgreSQL's notification arrives a moment after the commit
            assert time.monotonic() < deadline, "another process's commit was not noticed"
            time.sleep(0.01)
        mine = db.data_version()
        db.execute("INSERT INTO x VALUES (1)")
        time.sleep(0.2)
        assert db.data_version() == mine  # its own commits are not another process's
    finally:
        other.close()
        db.close()


def test_sqlite_reads_data_version_once_per_write_transaction(tmp_path: Path) -> None:
    db, other = SqliteDatabase(tmp_path / "s.db"), SqliteDatabase(tmp_path / "s.db")
    with db.transaction():
        inside = db.data_version()
        assert db.data_version() == inside  # no other connection can commit while we hold the write lock
    other.close()
    db.close()


def test_postgresql_transactions_of_two_threads_run_side_by_side(postgres_url: str) -> None:
    db = open_database(postgres_url)  # (SQLite runs one transaction at a time: the other thread waits for the lock)
    db.execute("CREATE TABLE t (v INTEGER)")
    inside, seen = threading.Event(), threading.Event()
    counts: list[int] = []

    def writer() -> None:
        with db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            inside.set()
            seen.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(10)
    counts.append(int(db.one("SELECT COUNT(*) FROM t")[0]))
    seen.set()
    thread.join(10)
    counts.append(int(db.one("SELECT COUNT(*) FROM t")[0]))
    db.close()
    assert counts == [0, 1]


def test_serialize_makes_read_then_write_steps_on_one_key_take_turns(database_location: str) -> None:
    db = open_database(database_location)
    db.execute("CREATE TABLE names (name TEXT)")

    def create_once() -> None:
        with db.transaction() as conn:
            db.serialize("names:a")
            if conn.execute("SELECT 1 FROM names WHERE name = 'a'").fetchone() is None:
                time.sleep(0.05)  # another thread's check would pass meanwhile without the lock
                conn.execute("INSERT INTO names VALUES ('a')")

    threads = [threading.Thread(target=create_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert int(db.one("SELECT COUNT(*) FROM names")[0]) == 1
    db.close()


def test_a_postgresql_url_is_shown_without_its_password() -> None:
    assert shown("postgresql://cb:s3cret@db1:5432,db2:5432/cb?target_session_attrs=read-write") == (
        "postgresql://cb:***@db1:5432,db2:5432/cb?target_session_attrs=read-write"
    )
    assert shown("sqlite:///var/lib/cb/cronbridge.db") == "/var/lib/cb/cronbridge.db"


def test_a_read_outside_a_transaction_does_not_wait_for_the_writer(db: Database) -> None:
    db.execute("INSERT INTO t VALUES (1)")
    entered, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (2)")
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert entered.wait(10)
    began = time.monotonic()
    assert values(db) == [1]  # the committed state, read beside the open write transaction
    assert time.monotonic() - began < 1
    release.set()
    thread.join()
    assert values(db) == [1, 2]


def test_inside_its_transaction_a_thread_reads_its_own_writes(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (5)")
        assert values(db) == [5]
        assert db.one("SELECT COUNT(*) AS n FROM t")["n"] == 1


def test_writers_of_two_processes_take_turns_without_busy_errors(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from cronbridge.store.db import SqliteDatabase\n"
        "db = SqliteDatabase(sys.argv[1])\n"
        "for i in range(300):\n"
        "    with db.transaction() as conn:\n"
        "        n = conn.execute('SELECT COALESCE(MAX(v), 0) FROM t').fetchone()[0]\n"
        "        conn.execute('INSERT INTO t VALUES (?)', (n + 1,))\n"
    )
    path = tmp_path / "shared.db"
    made = SqliteDatabase(path)
    made.execute("CREATE TABLE t (v INTEGER)")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)]) for _ in range(3)]
    assert [p.wait(120) for p in procs] == [0, 0, 0]  # no "database is locked" however the turns fell
    assert values(made) == list(range(1, 901))  # each read-then-write saw every write before it
    made.close()
