"""The Docker launcher against a real engine: one container per task container, even when started twice."""

from __future__ import annotations

import threading
import uuid

import docker
import pytest

from cronbridge.launchers.base import ContainerSpec, ExitInfo, Stream
from cronbridge.launchers.docker import DockerLauncher, container_name

pytestmark = pytest.mark.docker


class Collect:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.exit: ExitInfo | None = None
        self.done = threading.Event()

    def log(self, stream: Stream, timestamp: float, line: str) -> None:
        self.lines.append(line)

    def exited(self, info: ExitInfo) -> None:
        self.exit = info
        self.done.set()


def test_a_second_start_for_the_same_task_adopts_the_first_container(busybox_image: str) -> None:
    """A server that died between creating a container and recording it starts it again: no duplicate."""
    task_id = uuid.uuid4().hex
    spec = ContainerSpec(task_id=task_id, task_arn=f"arn:aws:ecs:us-east-1:0:task/c/{task_id}", name="app",
                         image=busybox_image, command=("sh", "-c", "echo once; sleep 1"),
                         labels=(("cronbridge.task-arn", f"arn:aws:ecs:us-east-1:0:task/c/{task_id}"),))
    launcher = DockerLauncher()
    first, second = Collect(), Collect()
    handle_one = launcher.start(spec, first)
    handle_two = launcher.start(spec, second)
    assert handle_one.runtime_id == handle_two.runtime_id
    client = docker.from_env()
    assert len(client.containers.list(all=True, filters={"name": container_name(spec)})) <= 1
    assert second.done.wait(30) and second.exit is not None and second.exit.exit_code == 0
    assert second.lines == ["once"]
