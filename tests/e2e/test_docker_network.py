"""awsvpc on Docker: one network namespace per task, shared by its containers (localhost), none between tasks, no
network but loopback unless assignPublicIp asks for it (and the engine has a bridge); gone with the task, kept
across a server restart."""

from __future__ import annotations

import time
from typing import Any

import docker
import pytest

from fixtures.ecs import NETWORK, execution_role, wait_stopped

pytestmark = pytest.mark.docker

GROUP = "/ecs/network"
PRIVATE = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}}
SERVE = "while true; do echo hello | nc -l -p 8080; done"
ASK = (
    "for i in $(seq 30); do nc 127.0.0.1 8080 </dev/null 2>/dev/null && exit 0; sleep 0.1; done; "
    "echo unreachable; exit 1"
)


@pytest.fixture
def docker_server(server_factory: Any, docker_engine: None, busybox_image: str) -> Any:
    server = server_factory(launcher="docker")
    server.client("logs").create_log_group(logGroupName=GROUP)
    server.client("ecs").create_cluster(clusterName="net")
    return server


def _container(name: str, image: str, script: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "command": ["sh", "-c", script],
        "stopTimeout": 2,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "net"},
        },
        **extra,
    }


def _register(ecs: Any, family: str, *containers: dict[str, Any]) -> None:
    ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        requiresCompatibilities=["FARGATE"],
        executionRoleArn=execution_role(ecs),
        containerDefinitions=list(containers),
    )


def _run(ecs: Any, family: str, network: dict[str, Any]) -> str:
    return str(
        ecs.run_task(cluster="net", taskDefinition=family, launchType="FARGATE", networkConfiguration=network)["tasks"][
            0
        ]["taskArn"]
    )


def _lines(server: Any, arn: str, container: str) -> list[str]:
    try:
        events = server.client("logs").get_log_events(
            logGroupName=GROUP, logStreamName=f"net/{container}/{arn.rsplit('/', 1)[-1]}", startFromHead=True
        )
    except Exception:  # the stream may not exist yet
        return []
    return [e["message"] for e in events["events"]]


def _details(task: dict[str, Any]) -> dict[str, str]:
    return {d["name"]: d["value"] for d in task["attachments"][0]["details"]}


def _holders(task_arn: str) -> list[Any]:
    task_id = task_arn.rsplit("/", 1)[-1]
    labels = [f"cronbridge.task-id={task_id}", "cronbridge.role=netns"]
    return list(docker.from_env().containers.list(all=True, filters={"label": labels}))


def _running(ecs: Any, arn: str) -> dict[str, Any]:
    for _ in range(400):
        task = ecs.describe_tasks(cluster="net", tasks=[arn])["tasks"][0]
        if task["lastStatus"] == "RUNNING":
            return dict(task)
        time.sleep(0.05)
    raise AssertionError(f"task {arn} never ran")


def test_containers_of_a_task_talk_over_localhost_with_only_loopback(docker_server: Any, busybox_image: str) -> None:
    ecs = docker_server.client("ecs")
    _register(
        ecs,
        "pair",
        _container("server", busybox_image, SERVE, essential=False),
        _container("client", busybox_image, f"ls /sys/class/net; {ASK}"),
    )
    arn = _run(ecs, "pair", PRIVATE)
    task = wait_stopped(ecs, "net", arn, timeout=60)
    client = next(c for c in task["containers"] if c["name"] == "client")
    assert client["exitCode"] == 0 and task["stopCode"] == "EssentialContainerExited"
    assert _lines(docker_server, arn, "client") == ["lo", "hello"]
    details = _details(task)
    assert details["cronbridge.networkNamespace"] == "task" and details["cronbridge.outboundAccess"] == "disabled"
    assert details["networkInterfaceId"].startswith("eni-") and "privateIPv4Address" not in details
    assert task["attachments"][0]["status"] == "DELETED"
    assert _holders(arn) == []  # the pause container went with the task


def test_two_tasks_do_not_share_a_namespace(docker_server: Any, busybox_image: str) -> None:
    ecs = docker_server.client("ecs")
    _register(ecs, "server", _container("server", busybox_image, SERVE))
    _register(ecs, "client", _container("client", busybox_image, f"ls /sys/class/net; {ASK}"))
    server = _run(ecs, "server", NETWORK)
    running = _running(ecs, server)
    client = _run(ecs, "client", NETWORK)  # assignPublicIp ENABLED, but the test engine runs with --bridge=none
    task = wait_stopped(ecs, "net", client, timeout=60)
    assert task["containers"][0]["exitCode"] == 1
    assert _lines(docker_server, client, "client") == ["lo", "unreachable"]
    details = _details(task)
    assert details["cronbridge.outboundAccess"] == "unavailable: the Docker engine has no default bridge network"
    assert details["networkInterfaceId"] != _details(running)["networkInterfaceId"]
    ecs.stop_task(cluster="net", task=server)
    wait_stopped(ecs, "net", server, timeout=60)
    assert _holders(server) == []


def test_an_adopted_task_keeps_its_namespace(docker_server: Any, busybox_image: str) -> None:
    ask_forever = "while true; do nc 127.0.0.1 8080 </dev/null 2>/dev/null; sleep 0.2; done"
    ecs = docker_server.client("ecs")
    _register(ecs, "kept", _container("server", busybox_image, SERVE), _container("client", busybox_image, ask_forever))
    arn = _run(ecs, "kept", PRIVATE)
    _running(ecs, arn)
    deadline = time.monotonic() + 30
    while "hello" not in _lines(docker_server, arn, "client") and time.monotonic() < deadline:
        time.sleep(0.1)
    (holder,) = _holders(arn)
    docker_server.kill()
    docker_server.start()
    ecs = docker_server.client("ecs")
    heard = len(_lines(docker_server, arn, "client"))
    deadline = time.monotonic() + 30
    while len(_lines(docker_server, arn, "client")) < heard + 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set(_lines(docker_server, arn, "client")) == {"hello"}
    assert len(_lines(docker_server, arn, "client")) >= heard + 3  # still answered on localhost after the restart
    assert [h.id for h in _holders(arn)] == [holder.id]
    ecs.stop_task(cluster="net", task=arn)
    assert wait_stopped(ecs, "net", arn, timeout=60)["stopCode"] == "UserInitiated"
    assert _holders(arn) == []
