"""The hand-assembled pause program, run in a real engine: it holds a task's namespace and ends on SIGTERM."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
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


def _wait_until_paused(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Until the program (or qemu running it) sleeps without using CPU: its handlers are in place by then. A fixed
    sleep lost the race on a loaded machine, where qemu had not yet installed the guest's handler."""
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline and proc.poll() is None:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        now = f"{fields[0]} {fields[11]} {fields[12]}"  # state, utime, stime
        if now == last and fields[0] == "S":
            return
        last = now
        time.sleep(0.2)


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_pause_program_waits_then_ends_on_sigterm_or_sigint(machine: str, signum: int, tmp_path: Path) -> None:
    binary = pause_binary(machine)
    assert binary is not None and binary.startswith(b"\x7fELF") and len(binary) < 512
    path = tmp_path / "pause"
    path.write_bytes(binary)
    os.chmod(path, 0o755)
    proc = _launch(machine, path)
    _wait_until_paused(proc)
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
    again = DockerLauncher().network(task_id, arn, public=False)  # a server that died after creating it
    assert first.namespace == "task" and first.outbound == "disabled" and first.address is None
    assert again.interface_id == first.interface_id
    client = docker.from_env()
    holders = client.containers.list(all=True, filters={"label": f"cronbridge.task-id={task_id}"})
    assert [h.name for h in holders] == [netns_name(task_id)]
    for _ in range(200):  # started while the task's first container would be created
        holders[0].reload()
        if holders[0].status == "running":
            break
        time.sleep(0.05)
    assert holders[0].status == "running"
    began = time.monotonic()
    holders[0].stop(timeout=20)  # SIGTERM: the pause program has a handler (PID 1 gets no signal without one)
    assert time.monotonic() - began < 10
    holders[0].reload()
    assert holders[0].attrs["State"]["ExitCode"] == 0
    launcher.cleanup(task_id)
    assert client.containers.list(all=True, filters={"label": f"cronbridge.task-id={task_id}"}) == []


@pytest.fixture
def bridged_engine(docker_engine: None) -> Iterator[str]:
    """A second engine of our own, with Docker's default `bridge` network (the test engine runs --bridge=none), on
    its own Linux bridge so that nothing of the machine's is touched."""
    root = Path(tempfile.mkdtemp(prefix="cbd-", dir="/tmp"))  # short: containerd's socket paths are limited
    link = f"cbt{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "link", "add", link, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", "10.213.77.1/24", "dev", link], check=True)
    subprocess.run(["ip", "link", "set", link, "up"], check=True)
    sock = f"unix://{root}/d.sock"
    log = open(root / "dockerd.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        ["dockerd", "--host", sock, "--data-root", str(root / "data"), "--exec-root", str(root / "x"),
         "--pidfile", str(root / "d.pid"), "--iptables=false", "--ip6tables=false", "--storage-driver=vfs",
         f"--bridge={link}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _answers(sock):
            assert proc.poll() is None and time.monotonic() < deadline, (root / "dockerd.log").read_text()[-2000:]
            time.sleep(0.2)
        yield sock
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        subprocess.run(["ip", "link", "del", link], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _answers(sock: str) -> bool:
    try:
        return bool(docker.DockerClient(base_url=sock, timeout=2).ping())
    except Exception:
        return False


def test_assign_public_ip_attaches_the_namespace_to_the_default_bridge(bridged_engine: str) -> None:
    launcher = DockerLauncher(base_url=bridged_engine)
    task_id = uuid.uuid4().hex
    network = launcher.network(task_id, f"arn:aws:ecs:us-east-1:0:task/c/{task_id}", public=True)
    assert network.outbound == "enabled" and network.namespace == "task"
    assert network.address is not None and network.address.startswith("10.213.77.") and network.mac
    other = uuid.uuid4().hex
    private = launcher.network(other, f"arn:aws:ecs:us-east-1:0:task/c/{other}", public=False)
    assert private.outbound == "disabled" and private.address is None
    launcher.cleanup(task_id)
    launcher.cleanup(other)
