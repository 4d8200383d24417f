"""The seed's task as a real container on a Docker engine: limits applied, output in CloudWatch Logs, ECS outcomes."""

from __future__ import annotations

import time
from typing import Any

import docker
import pytest

from fixtures.ecs import NETWORK, execution_role, wait_stopped

pytestmark = pytest.mark.docker


@pytest.fixture
def docker_server(server_factory: Any, docker_engine: None, busybox_image: str) -> Any:
    server = server_factory(launcher="docker")
    server.client("logs").create_log_group(logGroupName="/ecs/fargate-task-definition")
    server.client("ecs").create_cluster(clusterName="batch")
    return server


def register_seed(ecs: Any, image: str, **container: Any) -> None:
    ecs.register_task_definition(
        family="ecs-scheduled-batch-task", networkMode="awsvpc", cpu="256", memory="512",
        requiresCompatibilities=["FARGATE"], executionRoleArn=execution_role(ecs),
        containerDefinitions=[{
            "name": "hello", "image": image, "cpu": 256, "memory": 512, "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/fargate-task-definition", "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "ecs"}},
            **container,
        }],
    )


def run(ecs: Any, command: list[str]) -> str:
    overrides = {"containerOverrides": [{"name": "hello", "command": command}]}
    return str(ecs.run_task(cluster="batch", taskDefinition="ecs-scheduled-batch-task", overrides=overrides,
                            networkConfiguration=NETWORK, launchType="FARGATE")["tasks"][0]["taskArn"])


def test_the_seed_task_runs_as_a_container_and_logs_hello_world(docker_server: Any, busybox_image: str) -> None:
    ecs = docker_server.client("ecs")
    register_seed(ecs, busybox_image)
    arn = run(ecs, ["echo", "Hello,World!"])
    task = wait_stopped(ecs, "batch", arn, timeout=60)
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 0
    assert {"name": "cronbridge.launcher", "value": "docker"} in task["attributes"]
    limits = next(a["value"] for a in task["attributes"] if a["name"] == "cronbridge.limits.hello")
    assert "cpu:quota" in limits and "memory:hard" in limits
    stream = f"ecs/hello/{arn.rsplit('/', 1)[-1]}"
    events = docker_server.client("logs").get_log_events(
        logGroupName="/ecs/fargate-task-definition", logStreamName=stream, startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["Hello,World!"]


def test_the_container_gets_the_task_cpu_and_memory_limits(docker_server: Any, busybox_image: str) -> None:
    ecs = docker_server.client("ecs")
    register_seed(ecs, busybox_image, stopTimeout=2)
    arn = run(ecs, ["sleep", "300"])
    client = docker.from_env()
    name = f"cb-{arn.rsplit('/', 1)[-1]}-hello"
    for _ in range(200):
        try:
            config = client.containers.get(name).attrs["HostConfig"]
            break
        except docker.errors.NotFound:
            time.sleep(0.05)
    else:
        raise AssertionError(f"container {name} never appeared")
    assert config["NanoCpus"] == 250_000_000  # 256 CPU units = 0.25 vCPU
    assert config["Memory"] == 512 * 1024 * 1024
    ecs.stop_task(cluster="batch", task=arn, reason="done looking")
    stopped = wait_stopped(ecs, "batch", arn, timeout=60)
    assert stopped["stopCode"] == "UserInitiated" and stopped["stoppedReason"] == "done looking"
    # sleep is PID 1 and ignores SIGTERM, as it would on ECS: SIGKILL after the 2 s stopTimeout
    assert stopped["containers"][0]["exitCode"] == 137


def test_an_image_that_is_not_local_fails_with_cannot_pull_container_error(docker_server: Any) -> None:
    ecs = docker_server.client("ecs")
    register_seed(ecs, "registry.example/nothing:1")
    arn = run(ecs, ["true"])
    task = wait_stopped(ecs, "batch", arn, timeout=60)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotPullContainerError:")
