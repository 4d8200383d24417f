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


def _container_config(client: Any, name: str) -> dict[str, Any]:
    for _ in range(200):
        try:
            return dict(client.containers.get(name).attrs)
        except docker.errors.NotFound:
            time.sleep(0.05)
    raise AssertionError(f"container {name} never appeared")


def test_cpu_shares_memory_reservation_and_a_read_only_root(docker_server: Any, busybox_image: str) -> None:
    ecs = docker_server.client("ecs")
    register_seed(ecs, busybox_image, memoryReservation=128, readonlyRootFilesystem=True)
    arn = run(ecs, ["sh", "-c", "touch /written || echo read-only; sleep 1"])
    attrs = _container_config(docker.from_env(), f"cb-{arn.rsplit('/', 1)[-1]}-hello")
    assert attrs["HostConfig"]["CpuShares"] == 256 and attrs["HostConfig"]["CpuQuota"] in (0, 25_000)
    assert attrs["HostConfig"]["MemoryReservation"] == 128 * 1024 * 1024
    assert attrs["HostConfig"]["ReadonlyRootfs"] is True
    task = wait_stopped(ecs, "batch", arn, timeout=60)
    limits = next(a["value"] for a in task["attributes"] if a["name"] == "cronbridge.limits.hello")
    assert limits == "cpu:quota,cpu:shares,memory:hard,memory:soft"
    stream = f"ecs/hello/{arn.rsplit('/', 1)[-1]}"
    events = docker_server.client("logs").get_log_events(
        logGroupName="/ecs/fargate-task-definition", logStreamName=stream, startFromHead=True)["events"]
    assert "read-only" in [e["message"] for e in events]


def test_host_and_task_volumes_are_mounted(docker_server: Any, busybox_image: str, tmp_path: Any) -> None:
    (tmp_path / "input.txt").write_text("from the host\n")
    ecs = docker_server.client("ecs")
    logs = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/fargate-task-definition",
                                                "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
    ecs.register_task_definition(
        family="volumes", networkMode="awsvpc", cpu="256", memory="512", requiresCompatibilities=["FARGATE"],
        executionRoleArn=execution_role(ecs),
        volumes=[{"name": "input", "host": {"sourcePath": str(tmp_path)}}, {"name": "scratch"}],
        containerDefinitions=[
            {"name": "writer", "image": busybox_image, "essential": False, "logConfiguration": logs,
             "command": ["sh", "-c", "cat /in/input.txt > /scratch/copy.txt"],
             "mountPoints": [{"sourceVolume": "input", "containerPath": "/in", "readOnly": True},
                             {"sourceVolume": "scratch", "containerPath": "/scratch"}]},
            {"name": "reader", "image": busybox_image, "essential": True, "logConfiguration": logs,
             "command": ["sh", "-c", "cat /scratch/copy.txt; touch /in/x 2>/dev/null || echo host read-only"],
             "dependsOn": [{"containerName": "writer", "condition": "SUCCESS"}],
             "mountPoints": [{"sourceVolume": "input", "containerPath": "/in", "readOnly": True},
                             {"sourceVolume": "scratch", "containerPath": "/scratch"}]},
        ])
    arn = ecs.run_task(cluster="batch", taskDefinition="volumes", networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    task = wait_stopped(ecs, "batch", arn, timeout=60)
    assert task["stopCode"] == "EssentialContainerExited", task.get("stoppedReason")
    events = docker_server.client("logs").get_log_events(
        logGroupName="/ecs/fargate-task-definition", logStreamName=f"ecs/reader/{arn.rsplit('/', 1)[-1]}",
        startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["from the host", "host read-only"]
    task_id = arn.rsplit("/", 1)[-1]
    assert not [v for v in docker.from_env().volumes.list() if v.name.startswith(f"cb-{task_id}-")]


def _lines(server: Any, arn: str) -> list[str]:
    return [e["message"] for e in server.client("logs").get_log_events(
        logGroupName="/ecs/fargate-task-definition", logStreamName=f"ecs/hello/{arn.rsplit('/', 1)[-1]}",
        startFromHead=True)["events"]]


def test_a_running_container_is_adopted_after_a_server_restart(docker_server: Any, busybox_image: str) -> None:
    ecs = docker_server.client("ecs")
    register_seed(ecs, busybox_image)
    # runs until the test lets it end (a file made in the container), so it outlives the restart on a busy machine
    arn = run(ecs, ["sh", "-c", "echo one; until [ -e /go ]; do sleep 0.1; done; echo two; exit 7"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _lines(docker_server, arn) == ["one"]:
                break
        except Exception:  # the stream may not exist yet
            pass
        time.sleep(0.05)
    docker_server.kill()
    docker_server.start()
    ecs = docker_server.client("ecs")
    found = ecs.describe_tasks(cluster="batch", tasks=[arn])["tasks"][0]
    assert found["lastStatus"] == "RUNNING", found.get("stoppedReason")
    docker.from_env().containers.get(found["containers"][0]["runtimeId"]).exec_run(["touch", "/go"])
    task = wait_stopped(ecs, "batch", arn, timeout=90)
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 7
    assert _lines(docker_server, arn) == ["one", "two"]


def test_a_container_that_finished_during_the_downtime_reports_its_real_exit(
    docker_server: Any, busybox_image: str
) -> None:
    ecs = docker_server.client("ecs")
    register_seed(ecs, busybox_image)
    arn = run(ecs, ["sh", "-c", "sleep 1; echo late; exit 4"])
    for _ in range(200):
        if ecs.describe_tasks(cluster="batch", tasks=[arn])["tasks"][0]["lastStatus"] == "RUNNING":
            break
        time.sleep(0.05)
    docker_server.kill()
    time.sleep(2.5)
    restarted_at = time.time()
    docker_server.start()
    task = wait_stopped(docker_server.client("ecs"), "batch", arn, timeout=60)
    assert task["containers"][0]["exitCode"] == 4
    assert task["executionStoppedAt"].timestamp() < restarted_at  # when it really ended, not when we noticed
    assert _lines(docker_server, arn) == ["late"]
