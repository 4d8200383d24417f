"""A server SIGKILLed while it launches a task, or while the task runs: after the restart the task runs exactly once,
to its real end, on both launchers. Kills from 0 to 1.5 s after RunTask catch every step: recorded but not created,
created but not started, started, running, and already ended while nobody watched."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest

from fixtures.ecs import NETWORK, execution_role, wait_stopped

GROUP = "/ecs/mid-launch"
DELAYS = (0.0, 0.15, 0.4, 0.8, 1.5)


def launch_server(server_factory: Any, launcher: str, request: pytest.FixtureRequest) -> Any:
    if launcher == "docker":
        request.getfixturevalue("docker_engine")
        image = request.getfixturevalue("busybox_image")
    else:
        image = "busybox"
    server = server_factory(launcher=launcher)
    ecs = server.client("ecs")
    server.client("logs").create_log_group(logGroupName=GROUP)
    ecs.create_cluster(clusterName="batch")
    ecs.register_task_definition(
        family="mid-launch", networkMode="awsvpc", cpu="256", memory="512", requiresCompatibilities=["FARGATE"],
        executionRoleArn=execution_role(ecs),
        containerDefinitions=[{
            "name": "app", "image": image, "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
        }],
    )
    return server


def messages(server: Any, arn: str) -> list[str]:
    stream = f"ecs/app/{arn.rsplit('/', 1)[-1]}"
    logs = server.client("logs")
    return [e["message"] for e in logs.get_log_events(logGroupName=GROUP, logStreamName=stream,
                                                      startFromHead=True)["events"]]


@pytest.mark.parametrize("launcher", ["docker", "process"])
@pytest.mark.parametrize("delay", DELAYS)
def test_a_kill_during_launch_or_run_leaves_one_complete_run(server_factory: Any, request: pytest.FixtureRequest,
                                                             launcher: str, delay: float) -> None:
    if launcher == "docker":
        request.applymarker(pytest.mark.docker)
    server = launch_server(server_factory, launcher, request)
    ecs = server.client("ecs")
    command = ["sh", "-c", "echo first; sleep 0.5; echo second; exit 3"]
    arn = ecs.run_task(cluster="batch", taskDefinition="mid-launch", networkConfiguration=NETWORK,
                       overrides={"containerOverrides": [{"name": "app", "command": command}]},
                       launchType="FARGATE")["tasks"][0]["taskArn"]
    time.sleep(delay)
    server.kill()
    server.start()
    task = wait_stopped(server.client("ecs"), "batch", arn, timeout=90)
    assert task["stopCode"] == "EssentialContainerExited", task.get("stoppedReason")
    assert task["containers"][0]["exitCode"] == 3  # its real exit code, even when it ended while nobody watched
    deadline = time.monotonic() + 10
    while messages(server, arn) != ["first", "second"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert messages(server, arn) == ["first", "second"]  # every line, once: the run happened exactly once


@pytest.mark.parametrize("launcher", ["docker", "process"])
def test_a_task_outlives_a_server_sigkill_with_every_line_and_its_exit_code(
    server_factory: Any, request: pytest.FixtureRequest, launcher: str
) -> None:
    """60,000 lines over a few seconds, the server killed in the middle: every line stored once, the real exit."""
    if launcher == "docker":
        request.applymarker(pytest.mark.docker)
    server = launch_server(server_factory, launcher, request)
    script = ("i=0; while [ $i -lt 60000 ]; do echo line-$i; i=$((i+1)); "
              "[ $((i % 6000)) -eq 0 ] && sleep 0.3; done; exit 9")
    arn = server.client("ecs").run_task(
        cluster="batch", taskDefinition="mid-launch", networkConfiguration=NETWORK, launchType="FARGATE",
        overrides={"containerOverrides": [{"name": "app", "command": ["sh", "-c", script]}]})["tasks"][0]["taskArn"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # some lines stored, many still to come
        with contextlib.suppress(Exception):
            if len(messages(server, arn)) > 0:
                break
        time.sleep(0.1)
    server.kill()
    time.sleep(1)
    server.start()
    task = wait_stopped(server.client("ecs"), "batch", arn, timeout=120)
    assert task["stopCode"] == "EssentialContainerExited", task.get("stoppedReason")
    assert task["containers"][0]["exitCode"] == 9
    stored = all_messages(server, arn)
    assert len(stored) == 60_000 and stored == [f"line-{i}" for i in range(60_000)]


def all_messages(server: Any, arn: str) -> list[str]:
    logs, stream = server.client("logs"), f"ecs/app/{arn.rsplit('/', 1)[-1]}"
    found: list[str] = []
    token = None
    while True:
        page = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True,
                                   **({"nextToken": token} if token else {}))
        found += [e["message"] for e in page["events"]]
        if not page["events"] or page["nextForwardToken"] == token:
            return found
        token = page["nextForwardToken"]
