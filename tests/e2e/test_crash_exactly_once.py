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

from fixtures.ecs import container, events_role, register
from fixtures.server import ServerProcess

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
SEED = 20261129
KILLS = 25
BUDGET = 30.0  # seconds of kills and restarts: most or all of the kills on a quiet machine, fewer beside a CPU hog
MIN_KILLS = 6  # but never fewer than this
RULE = "every-minute"
TARGETS = ("steady", "flaky")  # flaky: every slot's first two RunTask attempts are throttled, then it launches
FAULTS = {"CRONBRIDGE_INJECT_RUNTASK_ERRORS": "flaky:ThrottlingException:2"}


def put_rule(server: ServerProcess, image: str = "busybox") -> str:
    ecs, events = server.client("ecs"), server.client("events")
    server.client("logs").create_log_group(logGroupName="/ecs/test")
    cluster = ecs.create_cluster(clusterName="work")["cluster"]["clusterArn"]
    taskdef = register(ecs, containerDefinitions=[container(image=image)])
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


def drive_clock(server: ServerProcess, rng: random.Random, stop: threading.Event, moves: list[int]) -> None:
    """Move the manual clock forward in small random steps until stopped or the server dies (counting the moves)."""
    while not stop.is_set():
        try:
            server.advance_clock(rng.choice((1, 3, 7, 15, 30)))
        except Exception:
            return
        moves[0] += 1
        time.sleep(0.002)


def kill_after_moves(server: ServerProcess, rng: random.Random, steps: int) -> None:
    """Let the clock make `steps` moves (however fast this machine is), then SIGKILL the server mid-stride."""
    stop, moves = threading.Event(), [0]
    driver = threading.Thread(target=drive_clock, args=(server, random.Random(rng.random()), stop, moves))
    driver.start()
    deadline = time.monotonic() + 30
    while moves[0] < steps and time.monotonic() < deadline and driver.is_alive():
        time.sleep(0.001)
    time.sleep(rng.uniform(0, 0.05))  # and a little more: the kill lands anywhere in what that move started
    server.kill()
    stop.set()
    driver.join()


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
    began = time.monotonic()
    try:
        server.set_clock(T0)
        cluster = put_rule(server)
        cut_mid_launch = cut_mid_retry = done = 0
        while done < kills and (done < MIN_KILLS or time.monotonic() - began < BUDGET):
            kill_after_moves(server, rng, rng.randint(4, 40))
            done += 1
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
        f"\ncrash test ({launcher} launcher): {done} SIGKILLs ({cut_mid_launch} left slots unfinished,"
        f" {cut_mid_retry} mid-retry),"
        f" {len(expected)} expected (target, slot) pairs, {len(found)} invocations ({len(final)} before the last"
        f" restart), {len(tasks)} tasks listed, {len(duplicates)} duplicates, {len(missing)} missing,"
        f" {sum(r['attempts'] for r in found)} attempts"
    )
    # the kills hit a busy scheduler (most noop runs cut a third of the kills mid-slot); real process starts (each
    # under its monitor) let the clock race less far on a loaded machine
    assert len(expected) >= (4 if launcher == "noop" else 3) * done
    assert cut_mid_launch >= (done // 8 if launcher == "noop" else 0)
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


def stream_lines(server: ServerProcess, arn: str) -> list[str] | None:
    """The task's log lines; None when it has no stream."""
    try:
        return [e["message"] for e in server.client("logs").get_log_events(
            logGroupName="/ecs/test", logStreamName=f"ecs/app/{arn.rsplit('/', 1)[-1]}", startFromHead=True)["events"]]
    except Exception:
        return None


def wait_all_stopped(server: ServerProcess, cluster: str, arns: list[str], timeout: float = 180) -> list[dict]:
    ecs, deadline = server.client("ecs"), time.monotonic() + timeout
    while True:
        found = [t for i in range(0, len(arns), 100)
                 for t in ecs.describe_tasks(cluster=cluster, tasks=arns[i:i + 100])["tasks"]]
        if all(t["lastStatus"] == "STOPPED" for t in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@pytest.mark.parametrize("launcher", ["process", "docker"])
def test_a_kill_in_the_first_second_after_a_slot_loses_no_run_and_repeats_none(
    tmp_path: Path, launcher: str, request: pytest.FixtureRequest
) -> None:
    """Each slot is due, then the server is SIGKILLed within the second (recorded, creating, created, started,
    ended): every slot's task runs once, to its real end (exit 0, its line logged), on either launcher."""
    image = "busybox"
    if launcher == "docker":
        request.applymarker(pytest.mark.docker)
        image = request.getfixturevalue("busybox_image")
    rng = random.Random(SEED + 1)
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir, launcher=launcher, manual_clock=True, extra_env=FAULTS).start()
    try:
        server.set_clock(T0)
        cluster = put_rule(server, image)
        kills = 6
        for k in range(1, kills + 1):
            server.set_clock(T0 + 60 * k + 0.5)  # slot k is due now
            time.sleep(rng.uniform(0.0, 1.0))
            server.kill()
            server.start()
        found = settle(server, data_dir, timeout=60)
        launched = [arn for r in found for arn in json.loads(r["task_arns"])]
        tasks = wait_all_stopped(server, cluster, launched)
        lines = {t["taskArn"]: stream_lines(server, t["taskArn"]) for t in tasks}
        listed = listed_tasks(server, cluster)
    finally:
        server.stop()
    keys = Counter((r["target_id"], r["scheduled_at"]) for r in found)
    expected = {(target, T0 + 60 * k) for target in TARGETS for k in range(1, kills + 1)}
    print(f"\nkills after slots ({launcher}): {kills} SIGKILLs, {len(found)} invocations, {len(tasks)} tasks, "
          f"{sum(t.get('stopCode') == 'EssentialContainerExited' for t in tasks)} ran to their end")
    assert set(keys) == expected and max(keys.values()) == 1  # none missing, none twice
    assert all(r["state"] == "SUCCEEDED" for r in found)
    assert len(launched) == len(set(launched)) == len(found) and sorted(listed) == sorted(launched)
    for task in tasks:  # and each run really happened, once
        assert task["stopCode"] == "EssentialContainerExited", task.get("stoppedReason")
        assert task["containers"][0].get("exitCode") == 0, task["containers"][0]
        assert lines[task["taskArn"]] == ["tick"]
