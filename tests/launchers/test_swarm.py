"""The Swarm launcher on a one-node Swarm of the tests' own, through a real server and boto3: what Swarm is asked
for, where the task ran, placement constraints, images, and tasks that outlive a server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.server import ServerProcess
from fixtures.swarm import Batch, Swarm, attribute

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def swarm_server(swarm: Swarm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("swarm"), launcher="swarm", extra_env={"DOCKER_HOST": swarm.url})
    yield server.start()
    server.stop()


@pytest.fixture
def batch(swarm_server: ServerProcess, swarm: Swarm) -> Batch:
    swarm_server.reset()
    return Batch(swarm_server, swarm)


def test_each_container_is_a_one_shot_replicated_job_with_its_limits(batch: Batch) -> None:
    arn = batch.run(batch.container("app", "sleep 2", cpu=256, memory=64, memoryReservation=32,
                                    ulimits=[{"name": "nofile", "softLimit": 100, "hardLimit": 200}]))  # fmt: skip
    batch.wait(arn, "RUNNING")
    (service,) = batch.services(arn)
    spec = service["Spec"]
    assert spec["Mode"] == {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}
    template = spec["TaskTemplate"]
    assert template["RestartPolicy"]["Condition"] == "none"
    assert template["Resources"] == {
        "Limits": {"NanoCPUs": 250_000_000, "MemoryBytes": 64 * 2**20},
        "Reservations": {"MemoryBytes": 32 * 2**20},
    }
    assert template["ContainerSpec"]["Ulimits"] == [{"Name": "nofile", "Soft": 100, "Hard": 200}]
    task = batch.wait(arn, "STOPPED")
    assert task["containers"][0]["exitCode"] == 0
    assert attribute(task, "cronbridge.launcher") == "swarm"
    assert attribute(task, "cronbridge.limits.app") == "cpu:quota,memory:hard,memory:reserved"


def test_describe_tasks_names_the_node_and_nothing_is_left_on_the_swarm(batch: Batch, swarm: Swarm) -> None:
    arn = batch.run(batch.container("app", "echo hi"))
    task = batch.wait(arn, "STOPPED")
    node = swarm.manager.client.api.inspect_node(swarm.manager.node_id())
    assert attribute(task, "cronbridge.node") == f"{node['Description']['Hostname']} ({node['ID']})"
    assert batch.lines(arn) == ["hi"]
    runtime_id = task["containers"][0]["runtimeId"]
    deadline = time.monotonic() + 30
    while batch.services(arn) or _container_exists(swarm, runtime_id):
        assert time.monotonic() < deadline, "the task's service or container is still there"
        time.sleep(0.2)


def _container_exists(swarm: Swarm, container_id: str) -> bool:
    return any(c.id == container_id for c in swarm.manager.client.containers.list(all=True))


def test_placement_constraints_admit_or_refuse_the_nodes(batch: Batch, swarm: Swarm) -> None:
    node = swarm.manager.node_id()
    swarm.label(node, color="red")
    refused = batch.register(batch.container("app", "echo never"),
                             placementConstraints=[{"type": "memberOf", "expression": "attribute:color == blue"}])
    result = batch.run_task(refused)
    assert result["tasks"] == []
    assert [(f["arn"], f["reason"]) for f in result["failures"]] == [
        (f"arn:aws:ecs:us-east-1:000000000000:container-instance/c/{node}", "MEMBER")]
    assert batch.ecs.list_tasks(cluster="c", family=refused, desiredStatus="STOPPED")["taskArns"] == []
    admitted = batch.run(batch.container("app", "echo placed"), placementConstraints=[
        {"type": "memberOf", "expression": "attribute:color in [red, green] and attribute:ecs.os-type == linux"}])
    task = batch.wait(admitted, "STOPPED")
    assert task["containers"][0]["exitCode"] == 0
    assert task["containerInstanceArn"] == f"arn:aws:ecs:us-east-1:000000000000:container-instance/c/{node}"
    assert batch.lines(admitted) == ["placed"]


def test_a_task_definition_keeps_its_placement_constraints(batch: Batch) -> None:
    constraint = {"type": "memberOf", "expression": "attribute:ecs.availability-zone == us-east-1a"}
    app = batch.container("app", "true", memory=64)
    batch.ecs.register_task_definition(family="placed", containerDefinitions=[app], placementConstraints=[constraint])
    found = batch.ecs.describe_task_definition(taskDefinition="placed")["taskDefinition"]
    assert found["placementConstraints"] == [constraint]


def test_an_image_the_node_lacks_fails_the_task_as_a_pull_error(batch: Batch) -> None:
    arn = batch.run({**batch.container("app", "true"), "image": "cronbridge-test/absent:1"})
    task = batch.wait(arn, "STOPPED", timeout=120)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotPullContainerError: ")
    assert "cronbridge-test/absent:1" in task["stoppedReason"]


def test_swarm_keeps_running_a_task_while_the_server_is_down(swarm: Swarm, tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "s", launcher="swarm", extra_env={"DOCKER_HOST": swarm.url}).start()
    try:
        batch = Batch(server, swarm)
        arn = batch.run(batch.container("app", "echo before; sleep 3; echo after; exit 7"))
        runtime_id = batch.wait(arn, "RUNNING")["containers"][0]["runtimeId"]
        time.sleep(0.5)
        server.kill()
        server.start()
        task = batch.wait(arn, "STOPPED")
        app = task["containers"][0]
        assert (app["exitCode"], app["runtimeId"]) == (7, runtime_id)
        assert task["stopCode"] == "EssentialContainerExited"
        assert batch.lines(arn) == ["before", "after"]
    finally:
        server.stop()


def test_a_task_that_ended_while_the_server_was_down_is_reported_on_return(swarm: Swarm, tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "s", launcher="swarm", extra_env={"DOCKER_HOST": swarm.url}).start()
    try:
        batch = Batch(server, swarm)
        arn = batch.run(batch.container("app", "sleep 1; seq 1 3; exit 2"))
        batch.wait(arn, "RUNNING")
        server.kill()
        _await_swarm_task_end(batch, arn)
        server.start()
        task = batch.wait(arn, "STOPPED")
        assert task["containers"][0]["exitCode"] == 2
        assert batch.lines(arn) == ["1", "2", "3"]
        assert task["executionStoppedAt"] < task["stoppedAt"]  # when it really ended, not when we noticed
    finally:
        server.stop()


def _await_swarm_task_end(batch: Batch, arn: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states: list[Any] = [t["Status"]["State"] for t in batch.swarm_tasks(arn)]
        if states and all(s in ("complete", "failed") for s in states):
            return
        time.sleep(0.2)
    raise AssertionError(f"the Swarm task of {arn} did not end")
