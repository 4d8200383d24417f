"""Opt-in `cronbridge:no-overlap` (skip | queue) on rules and schedule groups, through the real server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.ecs import NETWORK, register, wait_stopped

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


@pytest.fixture
def server(server_factory: Any) -> Iterator[Any]:
    """A manual-clock server at T0; the long tasks the tests start are stopped afterwards (they outlive a server)."""
    started = server_factory(manual_clock=True)
    started.set_clock(T0)
    yield started
    ecs = started.client("ecs")
    for arn in ecs.list_tasks(cluster="work", desiredStatus="RUNNING")["taskArns"]:
        ecs.stop_task(cluster="work", task=arn)
    for arn in ecs.list_tasks(cluster="work", desiredStatus="RUNNING")["taskArns"]:
        wait_stopped(ecs, "work", arn)


def long_target(server: Any, seconds: int) -> tuple[str, dict[str, Any]]:
    ecs = server.client("ecs")
    server.client("logs").create_log_group(logGroupName="/ecs/test")
    cluster = ecs.create_cluster(clusterName="work")["cluster"]["clusterArn"]
    return cluster, {
        "taskdef": register(ecs),
        "subnets": NETWORK["awsvpcConfiguration"]["subnets"],
        "input": json.dumps({"containerOverrides": [{"name": "app", "command": ["sleep", str(seconds)]}]}),
    }


def put_rule(server: Any, name: str, mode: str, seconds: int) -> str:
    cluster, t = long_target(server, seconds)
    events = server.client("events")
    events.put_rule(
        Name=name, ScheduleExpression="rate(1 minute)", Tags=[{"Key": "cronbridge:no-overlap", "Value": mode}]
    )
    events.put_targets(
        Rule=name,
        Targets=[
            {
                "Id": "batch",
                "Arn": cluster,
                "RoleArn": "arn:aws:iam::000000000000:role/events",
                "Input": t["input"],
                "EcsParameters": {
                    "TaskDefinitionArn": t["taskdef"],
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": t["subnets"]}},
                },
            }
        ],
    )
    return cluster


def finished(server: Any, query: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = server.get(f"/_cronbridge/invocations?{query}")["invocations"]
        done = [i for i in found if i["outcome"] != "PENDING"]
        if len(done) >= count:
            return sorted(done, key=lambda i: i["scheduledTime"])
        time.sleep(0.05)
    raise AssertionError(f"expected {count} finished invocations, got {found}")


def test_skip_records_a_skipped_slot_while_the_previous_task_still_runs(server: Any) -> None:
    cluster = put_rule(server, "skipper", "skip", 61)
    server.advance_clock(60)
    first = finished(server, "rule=skipper", 1)[0]
    assert first["outcome"] == "SUCCEEDED"
    server.advance_clock(60)
    both = finished(server, "rule=skipper", 2)
    assert both[1]["outcome"] == "SKIPPED" and both[1]["errorCode"] == "PreviousRunStillRunning"
    assert both[1]["taskArns"] == [] and first["taskArns"][0] in both[1]["note"]
    ecs = server.client("ecs")
    ecs.stop_task(cluster=cluster, task=first["taskArns"][0])
    wait_stopped(ecs, "work", first["taskArns"][0])
    server.advance_clock(60)  # the previous task stopped: the next slot launches
    assert finished(server, "rule=skipper", 3)[2]["outcome"] == "SUCCEEDED"


def test_queue_launches_the_next_slot_once_the_previous_task_stops(server: Any) -> None:
    put_rule(server, "queuer", "queue", 1)
    server.advance_clock(60)
    first = finished(server, "rule=queuer", 1)[0]
    server.advance_clock(60)
    time.sleep(0.3)
    pending = server.get("/_cronbridge/invocations?rule=queuer")["invocations"][0]
    assert pending["outcome"] == "PENDING" and pending["note"].startswith("queued (cronbridge:no-overlap=queue)")
    second = finished(server, "rule=queuer", 2)[1]
    assert second["outcome"] == "SUCCEEDED" and second["note"].startswith("queued ")
    task = wait_stopped(server.client("ecs"), "work", first["taskArns"][0])
    started = server.client("ecs").describe_tasks(cluster="work", tasks=second["taskArns"])["tasks"][0]
    assert started["createdAt"] >= task["stoppedAt"]


def test_without_the_tag_runs_overlap_as_on_aws(server: Any) -> None:
    put_rule(server, "overlapping", "no", 62)  # an unknown value is ignored
    server.advance_clock(60)
    finished(server, "rule=overlapping", 1)
    server.advance_clock(60)
    done = finished(server, "rule=overlapping", 2)
    assert [i["outcome"] for i in done] == ["SUCCEEDED", "SUCCEEDED"]
    assert done[1]["note"] is None


def test_a_schedule_group_tag_applies_to_its_schedules(server: Any) -> None:
    cluster, t = long_target(server, 63)
    scheduler = server.client("scheduler")
    scheduler.create_schedule_group(Name="serial", Tags=[{"Key": "cronbridge:no-overlap", "Value": "skip"}])
    scheduler.create_schedule(
        Name="nightly",
        GroupName="serial",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": cluster,
            "RoleArn": "arn:aws:iam::000000000000:role/scheduler",
            "Input": t["input"],
            "EcsParameters": {
                "TaskDefinitionArn": t["taskdef"],
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": t["subnets"]}},
            },
        },
    )
    server.advance_clock(60)
    finished(server, "schedule=nightly&group=serial", 1)
    server.advance_clock(60)
    done = finished(server, "schedule=nightly&group=serial", 2)
    assert [i["outcome"] for i in done] == ["SUCCEEDED", "SKIPPED"]
    assert done[1]["kind"] == "schedule"
