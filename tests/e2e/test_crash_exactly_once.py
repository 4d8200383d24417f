"""Exactly once across crashes: SIGKILL the server at random points while slots fire and retry, many times over,
then check the invocation log and the task list against the expected slots (zero duplicates, zero missing). And two
servers on one data directory: only the lease holder fires; the other takes over when it dies."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from fixtures.ecs import events_role, register
from fixtures.server import ServerProcess

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
SEED = 20261129
KILLS = 25
RULE = "every-minute"
TARGETS = ("steady", "flaky")  # flaky: every slot's first two RunTask attempts are throttled, then it launches
FAULTS = {"CRONBRIDGE_INJECT_RUNTASK_ERRORS": "flaky:ThrottlingException:2"}


def put_rule(server: ServerProcess) -> str:
    ecs, events = server.client("ecs"), server.client("events")
    server.client("logs").create_log_group(logGroupName="/ecs/test")
    cluster = ecs.create_cluster(clusterName="work")["cluster"]["clusterArn"]
    taskdef = register(ecs)
    role = events_role(ecs, taskdef)
    events.put_rule(Name=RULE, ScheduleExpression="rate(1 minute)")
    events.put_targets(
        Rule=RULE,
        Targets=[
            {
                "Id": target_id,
                "Arn": cluster,
                "RoleArn": role,
                "EcsParameters": {
                    "TaskDefinitionArn": taskdef,
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"]}},
                },
                "Input": json.dumps({"containerOverrides": [{"name": "app", "command": ["echo", "tick"]}]}),
            }
            for target_id in TARGETS
        ],
    )
    return str(cluster)


def drive_clock(server: ServerProcess, rng: random.Random, stop: threading.Event) -> None:
    """Move the manual clock forward in small random steps until stopped or the server dies."""
    while not stop.is_set():
        try:
            server.advance_clock(rng.choice((1, 3, 7, 15, 30)))
        except Exception:
            return
        time.sleep(0.002)


def rows(data_dir: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(data_dir / "cronbridge.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM invocations WHERE rule_name = ?", (RULE,)).fetchall()
    finally:
        conn.close()


def settle(server: ServerProcess, data_dir: Path, timeout: float = 20) -> list[sqlite3.Row]:
    """Advance past every stored retry until every slot up to now is recorded and none is PENDING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = float(server.get("/_cronbridge/health")["now"])
        found = rows(data_dir)
        owed = len(TARGETS) * int((now - T0) // 60)
        if len(found) >= owed and all(r["state"] != "PENDING" for r in found):
            return found
        server.advance_clock(2)
        time.sleep(0.05)
    raise AssertionError(f"still pending: {[dict(r) for r in rows(data_dir) if r['state'] == 'PENDING']}")


def listed_tasks(server: ServerProcess, cluster: str) -> list[str]:
    ecs = server.client("ecs")
    arns: list[str] = []
    for status in ("RUNNING", "STOPPED"):
        for page in ecs.get_paginator("list_tasks").paginate(
            cluster=cluster, desiredStatus=status, startedBy=f"events-rule/{RULE}"
        ):
            arns += page["taskArns"]
    return arns


@pytest.mark.parametrize(("launcher", "kills"), [("noop", KILLS), ("process", 8)])
def test_sigkill_at_random_points_never_loses_or_repeats_a_slot(tmp_path: Path, launcher: str, kills: int) -> None:
    rng = random.Random(SEED)
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir, launcher=launcher, manual_clock=True, extra_env=FAULTS).start()
    try:
        server.set_clock(T0)
        cluster = put_rule(server)
        cut_mid_launch = cut_mid_retry = 0
        for _ in range(kills):
            stop = threading.Event()
            driver = threading.Thread(target=drive_clock, args=(server, random.Random(rng.random()), stop))
            driver.start()
            time.sleep(rng.uniform(0.02, 0.35))
            server.kill()
            stop.set()
            driver.join()
            left = [r for r in rows(data_dir) if r["state"] == "PENDING"]
            cut_mid_launch += bool(left)
            cut_mid_retry += any(r["next_attempt_at"] is not None for r in left)
            server.start()
        final = rows(data_dir)
        server.advance_clock(1)
        found = settle(server, data_dir)
        now = max(r["scheduled_at"] for r in found)
        tasks = listed_tasks(server, cluster)
    finally:
        server.stop()
    expected = {(target, T0 + 60 * k) for target in TARGETS for k in range(1, int((now - T0) // 60) + 1)}
    keys = Counter((r["target_id"], r["scheduled_at"]) for r in found)
    duplicates = [k for k, n in keys.items() if n > 1]
    missing = expected - set(keys)
    launched = [arn for r in found for arn in json.loads(r["task_arns"])]
    print(
        f"\ncrash test ({launcher} launcher): {kills} SIGKILLs ({cut_mid_launch} left slots unfinished,"
        f" {cut_mid_retry} mid-retry),"
        f" {len(expected)} expected (target, slot) pairs, {len(found)} invocations ({len(final)} before the last"
        f" restart), {len(tasks)} tasks listed, {len(duplicates)} duplicates, {len(missing)} missing,"
        f" {sum(r['attempts'] for r in found)} attempts"
    )
    assert (
        len(expected) >= 4 * kills
    )  # the kills hit a busy scheduler (most noop runs cut a third of the kills mid-slot)
    assert cut_mid_launch >= (3 if launcher == "noop" else 0)
    assert duplicates == [] and missing == set() and set(keys) == expected
    assert all(r["state"] == "SUCCEEDED" for r in found)
    assert all(r["attempts"] >= 3 for r in found if r["target_id"] == "flaky")
    assert len(launched) == len(set(launched)) == len(found)  # one task per slot and target
    assert sorted(tasks) == sorted(launched)  # and no task the log does not know


def test_two_servers_on_one_data_directory_fire_each_slot_once_and_take_over(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    first = ServerProcess(data_dir, launcher="noop", manual_clock=True).start()
    second: ServerProcess | None = None
    try:
        first.set_clock(T0)
        put_rule(first)
        second = ServerProcess(data_dir, launcher="noop", manual_clock=True).start()
        assert first.get("/_cronbridge/health")["scheduler"] == "holder"
        assert second.get("/_cronbridge/health")["scheduler"] == "standby"
        for _ in range(3):
            now = first.advance_clock(60)
            second.set_clock(now)  # the standby's clock moves too: it must not fire
        time.sleep(0.5)
        first.kill()
        died = time.monotonic()
        while second.get("/_cronbridge/health")["scheduler"] != "holder":
            assert time.monotonic() - died < 3.5, "the standby did not take over within one lease interval"
            time.sleep(0.05)
        took = time.monotonic() - died
        for _ in range(3):
            second.advance_clock(60)
        found = settle(second, data_dir)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    keys = Counter((r["target_id"], r["scheduled_at"]) for r in found)
    assert set(keys) == {(t, T0 + 60 * k) for t in TARGETS for k in range(1, 7)}
    assert max(keys.values()) == 1
    print(f"\ntwo servers: take-over after {took:.2f} s; {len(found)} invocations, none twice")
    assert all(r["state"] == "SUCCEEDED" for r in found)
