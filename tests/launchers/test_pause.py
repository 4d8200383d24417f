"""The hand-assembled pause program, run in a real engine: it holds a task's namespace and ends on SIGTERM."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import docker
import pytest

from cronbridge.launchers.docker import DockerLauncher, netns_name
from cronbridge.launchers.pause import pause_binary

pytestmark = pytest.mark.docker


def _launch(machine: str, path: Path) -> subprocess.Popen[bytes]:
    """The program natively on its own architecture, else through qemu-user (installed by scripts/setup)."""
    if platform.machine() == machine:
        return subprocess.Popen([str(path)])
    emulator = shutil.which(f"qemu-{machine}")
    assert emulator is not None, f"qemu-{machine} is missing (Debian: apt-get install qemu-user)"
    return subprocess.Popen([emulator, str(path)])


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_pause_program_waits_then_ends_on_sigterm_or_sigint(machine: str, signum: int, tmp_path: Path) -> None:
    binary = pause_binary(machine)
    assert binary is not None and binary.startswith(b"\x7fELF") and len(binary) < 512
    path = tmp_path / "pause"
    path.write_bytes(binary)
    os.chmod(path, 0o755)
    proc = _launch(machine, path)
    time.sleep(0.3)
    assert proc.poll() is None  # still waiting
    proc.send_signal(signum)
    assert proc.wait(10) == 0


def test_no_pause_program_for_other_architectures() -> None:
    assert pause_binary("mips") is None


def test_a_task_namespace_is_held_by_one_pause_container_that_stops_on_sigterm(docker_engine: None) -> None:
    launcher = DockerLauncher()
    task_id = uuid.uuid4().hex
    arn = f"arn:aws:ecs:us-east-1:0:task/c/{task_id}"
    first = launcher.network(task_id, arn, public=False)
    again = launcher.network(task_id, arn, public=False)  # e.g. a server that died after creating it
    assert first.namespace == "task" and first.outbound == "disabled" and first.address is None
    assert again.interface_id == first.interface_id
    client = docker.from_env()
    holders = client.containers.list(all=True, filters={"label": f"cronbridge.task-id={task_id}"})
    assert [h.name for h in holders] == [netns_name(task_id)] and holders[0].status == "running"
    began = time.monotonic()
    holders[0].stop(timeout=20)  # SIGTERM: the pause program has a handler (PID 1 gets no signal without one)
    assert time.monotonic() - began < 10
    holders[0].reload()
    assert holders[0].attrs["State"]["ExitCode"] == 0
    launcher.cleanup(task_id)
    assert client.containers.list(all=True, filters={"label": f"cronbridge.task-id={task_id}"}) == []
