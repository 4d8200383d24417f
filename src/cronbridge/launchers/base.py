"""The Launcher protocol and the values that cross it (what to run, what happened)."""

from __future__ import annotations

import functools
import platform
import socket
import uuid
from dataclasses import dataclass, field
from typing import Literal, Protocol

from cronbridge.ecs.placing import Instance as Instance  # what `instances` answers

Stream = Literal["stdout", "stderr"]


@dataclass(frozen=True)
class Mount:
    """A volume mounted into a container: a host path, or a named Docker volume."""

    container_path: str
    host_path: str | None = None
    volume_name: str | None = None
    read_only: bool = False


@dataclass(frozen=True)
class HealthCheck:
    """A container health check as ECS writes it: `CMD-SHELL, ...` or `CMD, arg0, ...`; times in seconds."""

    command: tuple[str, ...]
    interval: int = 30
    timeout: int = 5
    retries: int = 3
    start_period: int = 0

    def argv(self) -> list[str]:
        """The probe as an argv: CMD-SHELL runs through `sh -c`."""
        kind, *rest = self.command
        if kind == "CMD-SHELL":
            return ["sh", "-c", " ".join(rest)]
        return list(rest)


@dataclass(frozen=True)
class ContainerSpec:
    """One container of a task, overrides applied. cpu in ECS units (1024 = 1 vCPU), memory in MiB."""

    task_id: str
    name: str
    image: str
    command: tuple[str, ...] | None = None
    entry_point: tuple[str, ...] | None = None
    environment: tuple[tuple[str, str], ...] = ()
    working_directory: str | None = None
    user: str | None = None
    cpu: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None
    readonly_root_filesystem: bool = False
    ulimits: tuple[tuple[str, int, int], ...] = ()
    mounts: tuple[Mount, ...] = ()
    network_mode: str = "awsvpc"
    labels: tuple[tuple[str, str], ...] = ()
    health_check: HealthCheck | None = None
    task_arn: str = ""
    stop_timeout: float = 30.0  # seconds between SIGTERM and SIGKILL (the container's stopTimeout)
    instance_id: str | None = None  # the container instance RunTask placed the task on (a Swarm node's id)


@dataclass(frozen=True)
class ExitInfo:
    """How a container ended. `oom` is true only when the kernel recorded an OOM kill."""

    exit_code: int | None
    reason: str | None = None
    oom: bool = False
    finished_at: float | None = None


@dataclass(frozen=True)
class Network:
    """A task's network as a launcher set it up: `namespace` is `task` (one namespace shared by the task's
    containers), `container` (each container alone, no network) or `host`; `outbound` is `enabled`, `disabled`
    (assignPublicIp not ENABLED), `host` (the host's network, whatever it allows) or `unavailable: <why>`."""

    namespace: str
    outbound: str
    interface_id: str | None = None
    address: str | None = None
    mac: str | None = None


HOST_NETWORK = Network(namespace="host", outbound="host", address="127.0.0.1")  # processes: the host's network


@dataclass
class Limits:
    """Which limits a launcher really enforced for a container (shown in DescribeTasks)."""

    enforced: list[str] = field(default_factory=list)


class ContainerSink(Protocol):
    """Receives what a running container does. Called from launcher threads; must be thread-safe."""

    def log(self, stream: Stream, timestamp: float, line: str) -> None:
        """One line of output (without its trailing newline)."""
        ...

    def exited(self, info: ExitInfo) -> None:
        """The container has ended and every log line has been delivered before this call."""
        ...


class ContainerHandle(Protocol):
    """A started container."""

    runtime_id: str
    limits: Limits
    node: str | None  # where it runs when not on this machine (a Swarm node: "hostname (node id)")

    def stop(self, timeout: float) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds. Returns at once; `exited` reports the end."""
        ...

    def health(self) -> str:
        """HEALTHY, UNHEALTHY or UNKNOWN (no health check, or none has decided yet)."""
        ...


class Launcher(Protocol):
    """Starts containers. `start` raises errors.LaunchError (kind = ECS error prefix) when it cannot."""

    name: str
    start_can_hang: bool  # the runner bounds `start` with a timeout (an engine may stop answering)
    outlives_server: bool  # what it runs is followed again after a restart: its exits go to disk before cleanup

    def instances(self) -> list[Instance]:
        """The container instances tasks can be placed on (the local launchers: this machine alone); raises
        LaunchError when they cannot be listed."""
        ...

    def prepare(self, spec: ContainerSpec) -> None:
        """Make the image ready (ECS's pull step); raises LaunchError (CannotPullContainerError) when it cannot."""
        ...

    def network(self, task_id: str, task_arn: str, public: bool) -> Network:
        """Set up an awsvpc task's network before its containers start (outbound access when `public`);
        raises LaunchError (ResourceInitializationError) when it cannot."""
        ...

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> ContainerHandle:
        """Start the container and return at once; output and exit go to `sink`."""
        ...

    def adopt(self, spec: ContainerSpec, sink: ContainerSink, since: float | None) -> ContainerHandle | None:
        """After a server restart: follow the container a previous server started for `spec` (output from
        `since`, epoch seconds), or None when it cannot be re-attached."""
        ...

    def abandon(self, task_id: str, name: str, runtime_id: str | None) -> str:
        """After a server restart: end what is left of a container that cannot be adopted; says what happened."""
        ...

    def cleanup(self, task_id: str) -> None:
        """The task has stopped: release what its containers shared (task-scoped volumes)."""
        ...


_ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def cpu_architecture(machine: str) -> str:
    """ECS's `ecs.cpu-architecture` for a machine name (`aarch64` is ECS's `arm64`); "" when unknown."""
    return _ARCHITECTURES.get(machine.lower(), "")


@functools.cache
def this_machine() -> Instance:
    """The one container instance of the local launchers: this machine, its id fixed by its hostname."""
    hostname = socket.gethostname()
    instance_id = uuid.uuid5(uuid.NAMESPACE_DNS, hostname).hex
    found = {
        "ec2InstanceId": instance_id,
        "agentConnected": "true",
        "attribute:ecs.os-type": platform.system().lower(),
        "attribute:ecs.cpu-architecture": cpu_architecture(platform.machine()),
    }
    return Instance(instance_id, {k: v for k, v in found.items() if v}, name=f"{hostname} ({instance_id})")
