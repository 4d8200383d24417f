"""A full disk is a state, not a crash: every protocol answers a retryable 503 ServiceUnavailableException saying
so (no 500, no traceback), and the same calls succeed once space is freed. The data folder is a small tmpfs."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.disk import SmallDisk
from fixtures.ecs import NETWORK, execution_role, wait_stopped
from fixtures.server import ServerProcess
from fixtures.signed import exchange, signed


@pytest.fixture
def server_on_small_disk(small_disk: SmallDisk, tmp_path: Path) -> Iterator[tuple[ServerProcess, SmallDisk]]:
    server = ServerProcess(small_disk.path / "data")
    server.log_path = tmp_path / "server.log"  # the log stays readable when the data folder is full
    server.start()
    try:
        yield server, small_disk
    finally:
        small_disk.free()
        server.stop()


def refused_while_full(call: Callable[[int], Any]) -> Any:
    """Call `call(i)` until the disk's last free pages are used up and it is refused; that refusal."""
    for i in range(200):
        try:
            call(i)
        except ClientError as err:
            return err.response
    raise AssertionError("the full disk never refused a write")


def until_refused(call: Callable[[int], tuple[Any, ...]]) -> tuple[Any, ...]:
    """Call `call(i)` (a raw exchange: status first) until it answers other than 200; that answer."""
    for i in range(200):
        answer = call(i)
        if answer[0] != 200:
            return answer
    raise AssertionError("the full disk never refused a write")


def test_writes_on_a_full_disk_are_a_retryable_503_on_every_protocol(
    server_on_small_disk: tuple[ServerProcess, SmallDisk]
) -> None:
    server, disk = server_on_small_disk
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/g")
    logs.create_log_stream(logGroupName="/g", logStreamName="s")
    disk.fill()
    line, now = "x" * 20_000, int(time.time() * 1000)
    answer = refused_while_full(lambda i: logs.put_log_events(
        logGroupName="/g", logStreamName="s", logEvents=[{"timestamp": now, "message": line}] * 40))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert answer["Error"]["Code"] == "ServiceUnavailableException"
    assert "disk is full" in answer["Error"]["Message"]
    ecs = refused_while_full(lambda i: server.client("ecs").create_cluster(clusterName=f"c{i}"))
    assert (ecs["ResponseMetadata"]["HTTPStatusCode"], ecs["Error"]["Code"]) == (503, "ServiceUnavailableException")
    # a small write may still fit where the database reuses pages (a write-ahead log restarted after a checkpoint,
    # by this worker or another): each protocol is asked until one of its writes is refused
    status, body = until_refused(lambda i: signed(server, "iam", urllib.parse.urlencode(
        {"Action": "CreateUser", "Version": "2010-05-08", "UserName": f"u{i}"}).encode()))
    assert status == 503 and b"<Code>ServiceUnavailable</Code>" in body
    status, _, raw = until_refused(lambda i: exchange(server, "scheduler", json.dumps({
        "ScheduleExpression": "rate(5 minutes)", "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"},
    }).encode(), path=f"/schedules/full{i}", headers={"Content-Type": "application/json"}))
    assert status == 503 and b"disk is full" in raw
    assert server.get("/_cronbridge/health")["status"] in ("ok", "degraded")
    log = server.log_path.read_text()
    assert "Traceback" not in log and "disk full" in log
    disk.free()
    logs.put_log_events(logGroupName="/g", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "space again"}])
    server.client("ecs").create_cluster(clusterName="after")
    assert "space again" in [e["message"] for e in logs.filter_log_events(logGroupName="/g")["events"]]


@pytest.mark.parametrize("launcher", ["process", "docker"])
def test_a_task_logging_through_a_full_disk_loses_no_line_and_its_pump_lives_on(
    small_disk: SmallDisk, tmp_path: Path, request: pytest.FixtureRequest, launcher: str
) -> None:
    """The data folder fills up while a task logs: its lines wait (the writer's buffer, the monitor's memory),
    health says degraded, and once space returns every line is stored in order and the task ends normally."""
    image = "busybox"
    if launcher == "docker":
        request.applymarker(pytest.mark.docker)
        image = request.getfixturevalue("busybox_image")
    server = ServerProcess(small_disk.path / "data", launcher=launcher)
    server.log_path = tmp_path / "server.log"
    server.start()
    try:
        ecs = server.client("ecs")
        server.client("logs").create_log_group(logGroupName="/ecs/full")
        ecs.create_cluster(clusterName="batch")
        ecs.register_task_definition(
            family="chatty", networkMode="awsvpc", cpu="256", memory="512", requiresCompatibilities=["FARGATE"],
            executionRoleArn=execution_role(ecs), containerDefinitions=[{
                "name": "app", "image": image, "essential": True,
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": "/ecs/full", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}}])
        script = ("i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); "
                  "[ $((i % 1000)) -eq 0 ] && sleep 0.5; done")
        overrides = {"containerOverrides": [{"name": "app", "command": ["sh", "-c", script]}]}
        arn = ecs.run_task(cluster="batch", taskDefinition="chatty", networkConfiguration=NETWORK,
                           launchType="FARGATE", overrides=overrides)["tasks"][0]["taskArn"]
        deadline = time.monotonic() + 60
        while ecs.describe_tasks(cluster="batch", tasks=[arn])["tasks"][0]["lastStatus"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        disk = small_disk
        disk.fill()
        deadline = time.monotonic() + 60
        while server.get("/_cronbridge/health").get("degraded") != "disk full":
            assert time.monotonic() < deadline, "health never said the disk is full"
            time.sleep(0.2)
        time.sleep(1.5)
        disk.free()
        task = wait_stopped(server.client("ecs"), "batch", arn, timeout=120)
        assert task["stopCode"] == "EssentialContainerExited", task
        container = task["containers"][0]
        assert container.get("exitCode") == 0, (container.get("reason"), task.get("stoppedReason"))
        assert "reason" not in task["containers"][0], task["containers"][0]  # nothing was lost
        stored = every_message(server, f"ecs/app/{arn.rsplit('/', 1)[-1]}")
        assert stored == [f"line-{i}" for i in range(20_000)]
        deadline = time.monotonic() + 30
        while server.get("/_cronbridge/health")["status"] != "ok":
            assert time.monotonic() < deadline, "health stayed degraded after space returned"
            time.sleep(0.2)
        assert "Traceback" not in server.log_path.read_text()
    finally:
        small_disk.free()
        server.stop()


def every_message(server: ServerProcess, stream: str) -> list[str]:
    logs, found, token = server.client("logs"), [], None
    while True:
        page = logs.get_log_events(logGroupName="/ecs/full", logStreamName=stream, startFromHead=True,
                                   **({"nextToken": token} if token else {}))
        found += [e["message"] for e in page["events"]]
        if not page["events"] or page["nextForwardToken"] == token:
            return found
        token = page["nextForwardToken"]
