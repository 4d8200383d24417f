"""The runner with a launcher whose start never returns: the task ends with ContainerRuntimeTimeoutError."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cronbridge.config import Settings
from cronbridge.launchers.base import ContainerHandle, ContainerSink, ContainerSpec
from cronbridge.launchers.noop import NoopLauncher
from cronbridge.model.ecs import ContainerDefinition, TaskDefinition, TaskStatus
from cronbridge.runner import RunTaskRequest
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
        system.ecs.create_cluster("us-east-1", "000000000000", "c")
        system.ecs.register("us-east-1", "000000000000", TaskDefinition(
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
