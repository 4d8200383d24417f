"""The invocation log on both engines: unique claims, all targets of a slot at once, expired runs, migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cronbridge.store.database import open_database
from cronbridge.store.db import SqliteDatabase
from cronbridge.store.invocations import Claim, InvocationLog, Outcome

ARN = "arn:aws:events:us-east-1:000000000000:rule/r"


def test_a_slot_is_claimed_once_for_all_its_targets(database_location: str) -> None:
    log = InvocationLog(open_database(database_location))
    claims = [Claim("a", "token-a"), Claim("b", "token-b")]
    first = log.claim_slot(ARN, "r", 60.0, claims, fired_at=60.5)
    assert [(i.target_id, i.state, i.fired_at) for i in first] == [("a", "PENDING", 60.5), ("b", "PENDING", 60.5)]
    assert log.claim_slot(ARN, "r", 60.0, claims, fired_at=61.0) == []
    assert log.last_slot(ARN) == 60.0


def test_a_run_of_expired_slots_is_one_row_and_is_never_claimed_again(database_location: str) -> None:
    log = InvocationLog(open_database(database_location))
    outcome = Outcome("FAILED", (), "MaximumEventAgeExceeded", "old", "MaximumEventAgeExceeded")
    row = log.record_expired(ARN, "r", "a", 60.0, 6000.0, 100, "t", 90000.0, outcome)
    assert row is not None and row.slot_count == 100 and row.covers_until == 6000.0
    assert log.last_slot(ARN) == 6000.0
    assert log.claim_slot(ARN, "r", 3000.0, [Claim("a", "x")], fired_at=1.0) == []  # inside the run
    assert len(log.claim_slot(ARN, "r", 3000.0, [Claim("b", "y")], fired_at=1.0)) == 1  # another target's slot


def test_a_retry_time_is_stored_and_cleared_by_the_next_attempt(database_location: str) -> None:
    log = InvocationLog(open_database(database_location))
    [inv] = log.claim_slot(ARN, "r", 60.0, [Claim("a", "t")], fired_at=60.0)
    assert log.attempt(inv.id, 60.0) == 1
    log.retry_at(inv.id, 61.5, "ThrottlingException", "slow down")
    [pending] = log.pending()
    assert pending.next_attempt_at == 61.5 and pending.error_code == "ThrottlingException"
    assert log.attempt(inv.id, 61.5) == 2
    assert log.complete(inv.id, 61.6, Outcome("SUCCEEDED", ("arn:task",)))
    assert not log.complete(inv.id, 61.7, Outcome("FAILED"))  # completed once only
    done = log.get(inv.id)
    assert done is not None and done.next_attempt_at is None and done.task_arns == ["arn:task"]


def test_a_database_from_before_the_new_columns_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE invocations (id INTEGER PRIMARY KEY, rule_arn TEXT NOT NULL, rule_name TEXT NOT NULL,"
        " target_id TEXT NOT NULL, scheduled_at REAL NOT NULL, manual INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
        " client_token TEXT NOT NULL, started_at REAL, finished_at REAL, attempts INTEGER NOT NULL DEFAULT 0,"
        " task_arns TEXT NOT NULL DEFAULT '[]', error_code TEXT, error_message TEXT,"
        " UNIQUE (rule_arn, target_id, scheduled_at, manual))"
    )
    conn.execute(
        "INSERT INTO invocations (rule_arn, rule_name, target_id, scheduled_at, state, client_token)"
        " VALUES (?, 'r', 'a', 60.0, 'SUCCEEDED', 't')",
        (ARN,),
    )
    conn.commit()
    conn.close()
    log = InvocationLog(SqliteDatabase(path))
    [old] = log.of_rule(ARN)
    assert old.state == "SUCCEEDED" and old.slot_count == 1 and old.dead_letter is None


def test_last_slots_of_many_rules_at_once(database_location: str) -> None:
    log = InvocationLog(open_database(database_location))
    other = ARN + "-2"
    log.claim_slot(ARN, "r", 60.0, [Claim("a", "t1")], fired_at=60.0)
    log.claim_slot(ARN, "r", 120.0, [Claim("a", "t2")], fired_at=120.0)
    log.claim_slot(other, "r2", 60.0, [Claim("a", "t3")], fired_at=60.0, manual=True)  # run-now: not a slot
    assert log.last_slots([ARN, other, ARN + "-none"]) == {ARN: 120.0}
