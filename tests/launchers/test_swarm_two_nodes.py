"""The Swarm launcher on two nodes: a manager and a worker dockerd, each in a network namespace of the test's own,
joined over a veth pair. A task's containers share a node; constraints pick the worker; the worker's engine, when
its node label names it, gives exact stops and OOM records, and without it Swarm still stops the task."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.server import ServerProcess
from fixtures.swarm import Batch, Swarm, attribute

pytestmark = pytest.mark.docker
ON_WORKER = [{"type": "memberOf", "expression": "attribute:zone == b"}]


@pytest.fixture(scope="module")
def cluster(two_node_swarm: Swarm) -> Swarm:
    two_node_swarm.label(two_node_swarm.manager.node_id(), zone="a")
    two_node_swarm.label(two_node_swarm.workers[0].node_id(), zone="b")
    return two_node_swarm


@pytest.fixture
def server(cluster: Swarm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("swarm2"), launcher="swarm",
                            extra_env={"DOCKER_HOST": cluster.url})  # fmt: skip
    yield process.start()
    process.stop()


def _worker(cluster: Swarm) -> str:
    return cluster.workers[0].node_id()


def test_the_swarm_has_two_ready_nodes(cluster: Swarm) -> None:
    nodes = cluster.manager.client.api.nodes()
    assert sorted(n["Spec"]["Role"] for n in nodes) == ["manager", "worker"]
    assert {n["Status"]["State"] for n in nodes} == {"ready"}


def test_a_constraint_places_the_task_on_the_worker_and_its_logs_come_back(cluster: Swarm,
                                                                           server: ServerProcess) -> None:
    batch = Batch(server, cluster)
    arn = batch.run(batch.container("app", "seq 1 20000; exit 4"), placementConstraints=ON_WORKER)
    task = batch.wait(arn, "STOPPED")
    assert task["containers"][0]["exitCode"] == 4
    assert attribute(task, "cronbridge.node") == f"{_hostname(cluster)} ({_worker(cluster)})"
    assert task["containerInstanceArn"].endswith(f"/{_worker(cluster)}")
    assert batch.lines(arn) == [str(i) for i in range(1, 20001)]


def test_distinct_instance_puts_each_task_of_a_run_on_a_node_of_its_own(cluster: Swarm, server: ServerProcess) -> None:
    batch = Batch(server, cluster)
    family = batch.register(batch.container("app", "sleep 30", stopTimeout=2))
    result = batch.run_task(family, count=3, placementConstraints=[{"type": "distinctInstance"}])
    nodes = {cluster.manager.node_id(), _worker(cluster)}
    placed = {t["taskArn"]: t["containerInstanceArn"].rsplit("/", 1)[-1] for t in result["tasks"]}
    assert sorted(placed.values()) == sorted(nodes)
    assert {(f["arn"].rsplit("/", 1)[-1], f["reason"]) for f in result["failures"]} == {
        (node, "DISTINCT_INSTANCE") for node in nodes}
    for arn, node in placed.items():
        batch.wait(arn, "RUNNING")
        assert {t["NodeID"] for t in batch.swarm_tasks(arn)} == {node}  # Swarm ran it where RunTask said
        batch.ecs.stop_task(cluster="c", task=arn)
    for arn in placed:
        assert batch.wait(arn, "STOPPED")["stopCode"] == "UserInitiated"


def _hostname(cluster: Swarm) -> str:
    return str(cluster.manager.client.api.inspect_node(_worker(cluster))["Description"]["Hostname"])


def test_the_containers_of_a_task_run_on_one_node(cluster: Swarm, server: ServerProcess) -> None:
    batch = Batch(server, cluster)
    arns = [  # they run until stopped: each is looked at while it runs, even on a loaded machine
        batch.run(batch.container("app", "sleep 300", stopTimeout=2),
                  batch.container("side", "sleep 300", essential=False, stopTimeout=2))
        for _ in range(4)
    ]
    placed: dict[str, set[str]] = {}
    for arn in arns:
        batch.wait(arn, "RUNNING")
        placed[arn] = {t["NodeID"] for t in batch.swarm_tasks(arn)}
    assert all(len(nodes) == 1 for nodes in placed.values()), placed
    for arn in arns:
        batch.ecs.stop_task(cluster="c", task=arn)
    for arn in arns:
        task = batch.wait(arn, "STOPPED")
        assert task["stopCode"] == "UserInitiated"
        assert attribute(task, "cronbridge.node") is not None


def test_without_the_workers_engine_swarm_still_stops_the_task(cluster: Swarm, server: ServerProcess) -> None:
    batch = Batch(server, cluster)
    script = "trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.1; done"
    arn = batch.run(batch.container("app", script, stopTimeout=2), placementConstraints=ON_WORKER)
    batch.wait(arn, "RUNNING")
    _await_line(batch, arn, "ready")
    batch.ecs.stop_task(cluster="c", task=arn, reason="enough")
    task = batch.wait(arn, "STOPPED")
    assert (task["stopCode"], task["stoppedReason"]) == ("UserInitiated", "enough")
    app = task["containers"][0]
    assert app.get("exitCode") == 137 or app["reason"] == "Swarm removed the task before its exit code was read"
    assert batch.services(arn) == []


def test_with_the_workers_engine_stops_and_oom_kills_are_exact(cluster: Swarm, server: ServerProcess) -> None:
    cluster.label(_worker(cluster), zone="b", **{"cronbridge.engine": cluster.workers[0].url})
    try:
        batch = Batch(server, cluster)
        script = "trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.1; done"
        stopped = batch.run(batch.container("app", script, stopTimeout=2), placementConstraints=ON_WORKER)
        batch.wait(stopped, "RUNNING")
        _await_line(batch, stopped, "ready")
        batch.ecs.stop_task(cluster="c", task=stopped)
        task = batch.wait(stopped, "STOPPED")
        assert task["containers"][0]["exitCode"] == 137
        assert (task["executionStoppedAt"] - task["stoppingAt"]).total_seconds() >= 1.9
        assert batch.lines(stopped) == ["ready", "got TERM"]
        oom = batch.run(batch.container("app", 'x=a; while true; do x="$x$x"; done', memory=6),
                        placementConstraints=ON_WORKER)  # fmt: skip
        app = batch.wait(oom, "STOPPED")["containers"][0]
        assert app["exitCode"] == 137 and app["reason"] == "OutOfMemoryError: Container killed due to memory usage"
        runtime_ids = {task["containers"][0]["runtimeId"], app["runtimeId"]}
        _await(lambda: not runtime_ids & {c.id for c in cluster.workers[0].client.containers.list(all=True)})
    finally:
        cluster.label(_worker(cluster), zone="b")


def _await_line(batch: Batch, arn: str, line: str, timeout: float = 30) -> None:
    _await(lambda: line in batch.lines(arn), timeout)


def _await(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.1)
