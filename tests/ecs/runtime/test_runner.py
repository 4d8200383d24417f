"""The runner with a launcher whose start never returns: the task ends with ContainerRuntimeTimeoutError."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cronbridge.config import Settings
from cronbridge.ecs.runtime.runner import RunTaskRequest
from cronbridge.errors import AwsError
from cronbridge.launchers.base import ContainerHandle, ContainerSink, ContainerSpec
from cronbridge.launchers.noop import NoopLauncher
from cronbridge.model.ecs import ContainerDefinition, TaskDefinition, TaskStatus
from cronbridge.scope import HOME, Scope
from cronbridge.system import System


class StuckLauncher(NoopLauncher):
    """An engine that accepts the start and never answers (a hung Docker daemon)."""

    name = "stuck"
    start_can_hang = True

    def __init__(self) -> None:
        self.release = threading.Event()

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> ContainerHandle:
        self.release.wait(30)
        return super().start(spec, sink)


def test_a_start_that_never_returns_is_a_container_runtime_timeout(tmp_path: Path) -> None:
    launcher = StuckLauncher()
    system = System(Settings(data_dir=tmp_path), launcher=launcher)
    try:
        system.runner.start_timeout = 0.3
        system.ecs.create_cluster(HOME, "c")
        system.ecs.register(HOME, TaskDefinition(
            family="f", memory="512", container_definitions=[ContainerDefinition(name="app", image="x")]))
        task = system.runner.run_task(RunTaskRequest("us-east-1", "000000000000", "f", cluster="c",
                                                     launch_type="EC2")).tasks[0]
        deadline = time.monotonic() + 10
        while (found := system.ecs.tasks.get(task.task_arn)) is not None and found.last_status != TaskStatus.STOPPED:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert found is not None and found.stop_code == "TaskFailedToStart"
        assert found.stopped_reason == (
            "ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting 0.3s")
    finally:
        launcher.release.set()
        system.close()


def test_a_batch_of_run_tasks_answers_each_request_on_its_own(tmp_path: Path) -> None:
    system = System(Settings(data_dir=tmp_path, launcher="noop"), launcher=NoopLauncher())
    try:
        east, west = Scope("000000000000", "us-east-1"), Scope("000000000000", "eu-west-1")
        for scope in (east, west):
            system.ecs.create_cluster(scope, "c")
            system.ecs.register(scope, TaskDefinition(
                family="f", memory="512", container_definitions=[ContainerDefinition(name="app", image="x")]))

        def request(token: str, family: str = "f", started_by: str = "a", region: str = "us-east-1") -> RunTaskRequest:
            return RunTaskRequest(region, "000000000000", family, cluster="c", launch_type="EC2",
                                  client_token=token, started_by=started_by)

        [earlier] = system.runner.run_task(request("used-before")).tasks
        with system.db.transaction():
            answers = system.runner.record_batch([
                request("one"), request("missing", family="nope"), request("one"), request("used-before"),
                request("one", started_by="b"), request("used-before", region="eu-west-1"),
            ])
        one, missing, again, replayed, conflict, elsewhere = answers
        assert not isinstance(one, AwsError) and len(one.task_arns) == 1 and len(one.starts) == 1
        assert isinstance(missing, AwsError) and missing.code == "ClientException"  # refused alone
        assert not isinstance(again, AwsError) and again.task_arns == one.task_arns and again.starts == []
        assert not isinstance(replayed, AwsError) and replayed.task_arns == (earlier.task_arn,)
        assert isinstance(conflict, AwsError) and conflict.code == "ConflictException"  # same token, other request
        assert sorted(system.ecs.tasks.list_arns(system.ecs.cluster(east, "c").cluster_arn)) == sorted(
            [earlier.task_arn, *one.task_arns])
        # a client token is of its Region: the same one in another Region starts tasks there
        assert not isinstance(elsewhere, AwsError) and len(elsewhere.starts) == 1
        assert system.ecs.tasks.list_arns(system.ecs.cluster(west, "c").cluster_arn) == list(elsewhere.task_arns)
    finally:
        system.close()
