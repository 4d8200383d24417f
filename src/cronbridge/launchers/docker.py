"""Containers on a Docker Engine (docker SDK): limits as ECS sets them, output streamed per stream, exits reported,
containers found again by label and deterministic name after a restart."""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from cronbridge.errors import LaunchError
from cronbridge.launchers.base import (
    ContainerSink,
    ContainerSpec,
    ExitInfo,
    HealthCheck,
    Instance,
    Limits,
    Mount,
    Network,
    Stream,
    this_machine,
)
from cronbridge.launchers.logframes import LineReader, drain, parse_time
from cronbridge.launchers.pause import build_context, pause_binary

LABEL_TASK = "cronbridge.task-id"
LABEL_TASK_ARN = "cronbridge.task-arn"
LABEL_CONTAINER = "cronbridge.container-name"
LABEL_ROLE = "cronbridge.role"  # "netns" on the container that holds a task's network namespace
DEFAULT_BRIDGE = "bridge"
_HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}
_NS = 1_000_000_000
NAME_TAKEN_WAIT = 30.0  # seconds a name taken by a create still in the engine's hands may take to show a container


def container_name(spec: ContainerSpec) -> str:
    """Deterministic, so a restarted server can find the container of a task again."""
    return f"cb-{spec.task_id}-{re.sub(r'[^A-Za-z0-9_.-]', '_', spec.name)}"


def netns_name(task_id: str) -> str:
    """The container holding a task's network namespace; the dot never occurs in an ECS container name."""
    return f"cb-{task_id}.netns"


def host_config(spec: ContainerSpec, network_mode: str = "none") -> dict[str, Any]:
    """cpu as a CPU quota (and shares), memory as the hard limit (no swap), memoryReservation as the soft one."""
    options: dict[str, Any] = {
        "network_mode": network_mode,
        "read_only": spec.readonly_root_filesystem,
        # the `local` driver keeps raw bytes; json-file turns a UTF-8 character cut at its 16 KiB split into U+FFFD
        "log_config": docker.types.LogConfig(type="local"),
    }
    if spec.cpu:
        options["nano_cpus"] = int(spec.cpu / 1024 * _NS)
        options["cpu_shares"] = max(spec.cpu, 2)
    if spec.memory:
        options["mem_limit"] = f"{spec.memory}m"
        options["memswap_limit"] = f"{spec.memory}m"
    if spec.memory_reservation:
        options["mem_reservation"] = f"{spec.memory_reservation}m"
    if spec.ulimits:
        options["ulimits"] = [docker.types.Ulimit(name=n, soft=s, hard=h) for n, s, h in spec.ulimits]
    if spec.mounts:
        options["mounts"] = [_mount(m) for m in spec.mounts]
    return options


def _mount(mount: Mount) -> Any:
    if mount.host_path:
        return docker.types.Mount(mount.container_path, mount.host_path, type="bind", read_only=mount.read_only)
    return docker.types.Mount(mount.container_path, mount.volume_name, type="volume", read_only=mount.read_only)


def healthcheck(check: HealthCheck) -> dict[str, Any]:
    return {
        "test": list(check.command),
        "interval": check.interval * _NS,
        "timeout": check.timeout * _NS,
        "retries": check.retries,
        "start_period": check.start_period * _NS,
    }


def _enforced(spec: ContainerSpec) -> list[str]:
    found = ["cpu:quota", "cpu:shares"] if spec.cpu else []
    if spec.memory:
        found.append("memory:hard")
    if spec.memory_reservation:
        found.append("memory:soft")
    return found


class DockerHandle:
    def __init__(self, container: Any, spec: ContainerSpec) -> None:
        self.container = container
        self.runtime_id = container.id
        self.limits = Limits(enforced=_enforced(spec))
        self.node: str | None = None

    def stop(self, timeout: float) -> None:
        threading.Thread(target=self._stop, args=(timeout,), daemon=True).start()

    def _stop(self, timeout: float) -> None:
        with contextlib.suppress(NotFound, APIError):
            self.container.stop(timeout=int(timeout))

    def health(self) -> str:
        try:
            self.container.reload()
        except (NotFound, APIError):
            return "UNKNOWN"
        status = (self.container.attrs.get("State", {}).get("Health") or {}).get("Status", "")
        return _HEALTH.get(status, "UNKNOWN")


class DockerLauncher:
    """Runs each container on the engine at `base_url` (DOCKER_HOST); never pulls: images must be local."""

    name = "docker"
    start_can_hang = True  # the engine may stop answering: the runner bounds the start
    outlives_server = True

    def __init__(self, base_url: str | None = None) -> None:
        self.client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        self._pause_lock = threading.Lock()
        self._pause: str | None | bool = False  # the pause image's tag; None: this engine's architecture has none
        self._netns: dict[str, _Starting] = {}  # tasks whose namespace this launcher has set up

    def instances(self) -> list[Instance]:
        """The engine's machine: this one (the engine is local, or cronbridge stands for it)."""
        return [this_machine()]

    # a task's network namespace -------------------------------------------------------------------------------
    def network(self, task_id: str, task_arn: str, public: bool) -> Network:
        """One namespace for the task, held by a pause container its containers join; attached to the engine's
        default bridge only when `public` and the engine has one. Without a pause program for the engine's
        architecture, each container runs alone with no network (`namespace` says `container`)."""
        try:
            if self._pause_image() is None:
                return Network(namespace="container", outbound=_outbound(public, "no pause program for this engine"))
            bridge = self._default_bridge() if public else None
            holder = self._ensure_netns(task_id, task_arn, bridge)
        except (APIError, DockerException) as exc:
            raise LaunchError(
                "ResourceInitializationError", f"failed to set up the task network: {_explain(exc)}"
            ) from exc
        attached = (holder.attrs.get("NetworkSettings", {}).get("Networks") or {}).get(DEFAULT_BRIDGE) or {}
        why = "the Docker engine has no default bridge network"
        return Network(
            namespace="task",
            outbound="enabled" if attached else _outbound(public, why),
            interface_id=f"eni-{holder.id[:17]}",
            address=attached.get("IPAddress") or None,
            mac=attached.get("MacAddress") or None,
        )

    def _pause_image(self) -> str | None:
        """The pause image, built once FROM scratch (nothing is pulled); None when no pause program fits."""
        with self._pause_lock:
            if self._pause is False:
                binary = pause_binary(str(self.client.info().get("Architecture", "")))
                self._pause = None if binary is None else self._build_pause(binary)
            return self._pause if isinstance(self._pause, str) else None

    def _build_pause(self, binary: bytes) -> str:
        tag = f"cronbridge/pause:{hashlib.sha256(binary).hexdigest()[:12]}"
        try:
            self.client.images.get(tag)
        except ImageNotFound:
            self.client.images.build(fileobj=build_context(binary), custom_context=True, tag=tag, rm=True)
        return tag

    def _default_bridge(self) -> str | None:
        found = self.client.networks.list(names=[DEFAULT_BRIDGE])
        return DEFAULT_BRIDGE if any(n.name == DEFAULT_BRIDGE for n in found) else None

    def _ensure_netns(self, task_id: str, task_arn: str, bridge: str | None) -> Any:
        """Create and start the task's pause container; one already there (a server that died after creating
        it) is used, so a task never has two."""
        if task_id in self._netns:
            return self._netns[task_id].holder
        try:
            holder = self.client.containers.create(
                image=self._pause_image(),
                name=netns_name(task_id),
                labels={LABEL_TASK: task_id, LABEL_TASK_ARN: task_arn, LABEL_ROLE: "netns"},
                detach=True,
                network_mode=bridge or "none",
                read_only=True,
                log_config=docker.types.LogConfig(type="none"),
            )
        except APIError as exc:
            if exc.status_code != 409:
                raise
            holder = self.client.containers.get(netns_name(task_id))
        starting = _Starting(holder)
        if holder.status == "running":
            starting.done.set()
        elif bridge:  # the address is only known once it runs
            starting.run()
            starting.wait()
        else:  # started while the first container is created (a create copies the image: the longer step)
            threading.Thread(target=starting.run, daemon=True, name=f"netns-{task_id[:8]}").start()
        self._netns[task_id] = starting
        return holder

    def _network_mode(self, spec: ContainerSpec) -> str:
        """awsvpc: the task's namespace (set up here if `network` was not called); otherwise no network."""
        if spec.network_mode != "awsvpc" or self._pause_image() is None:
            return "none"
        if spec.task_id not in self._netns:
            self._ensure_netns(spec.task_id, spec.task_arn, None)
        return f"container:{netns_name(spec.task_id)}"

    def _await_netns(self, task_id: str) -> None:
        """A container joining the task's namespace starts once the pause container runs."""
        starting = self._netns.get(task_id)
        if starting is not None:
            starting.wait()

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except (DockerException, OSError):
            return False

    def prepare(self, spec: ContainerSpec) -> None:
        self._check_image(spec.image)

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> DockerHandle:
        """Create and start; a container of that name already there was created for this very task by a server
        that died before recording it, and is adopted rather than duplicated."""
        try:
            container = self._create_or_find(spec)
            if container.status == "created":
                self._await_netns(spec.task_id)
                container.start()
        except ImageNotFound as exc:
            self._check_image(spec.image)  # raises CannotPullContainerError
            raise LaunchError("CannotStartContainerError", _explain(exc)) from exc
        except (APIError, DockerException) as exc:
            raise LaunchError("CannotStartContainerError", _explain(exc)) from exc
        return self._follow_in_background(container, spec, sink, None)

    def _create_or_find(self, spec: ContainerSpec) -> Any:
        """Create; when the name is taken (409), the existing container is this task's and is used."""
        try:
            return self.client.containers.create(**self._create_options(spec))
        except APIError as exc:
            if exc.status_code != 409:
                raise
        deadline = time.monotonic() + NAME_TAKEN_WAIT
        while True:  # a create a dead server sent may still be under way in the engine: its container appears soon
            existing = self._existing(container_name(spec))
            if existing is not None:
                return existing
            if time.monotonic() >= deadline:
                raise LaunchError("CannotStartContainerError", f"container name {container_name(spec)} is taken")
            time.sleep(0.1)

    def adopt(self, spec: ContainerSpec, sink: ContainerSink, since: float | None) -> DockerHandle | None:
        """Re-attach to the container a previous server started for `spec`: logs from `since`, then its exit
        (at once, with its real exit code and finish time, when it ended while nobody watched)."""
        container = self._existing(container_name(spec))
        if container is None or dict(container.labels).get(LABEL_TASK_ARN) != spec.task_arn:
            return None
        if container.status == "created":
            return None
        return self._follow_in_background(container, spec, sink, since)

    def abandon(self, task_id: str, name: str, runtime_id: str | None) -> str:
        """A container that cannot be adopted is removed; returns what happened."""
        container = self._existing(container_name(ContainerSpec(task_id=task_id, name=name, image="")))
        if container is None:
            return "Docker did not recognize the container after a cronbridge restart"
        with contextlib.suppress(NotFound, APIError):
            container.remove(force=True)
        return "its container was removed after a cronbridge restart"

    def _follow_in_background(
        self, container: Any, spec: ContainerSpec, sink: ContainerSink, since: float | None
    ) -> DockerHandle:
        threading.Thread(
            target=self._follow, args=(container, spec, sink, since), daemon=True, name=f"docker-{spec.name}"
        ).start()
        return DockerHandle(container, spec)

    def _existing(self, name: str) -> Any:
        try:
            return self.client.containers.get(name)
        except NotFound:
            return None

    def _check_image(self, image: str) -> None:
        try:
            self.client.images.get(image)
        except ImageNotFound as exc:
            ref = image if "/" in image else f"docker.io/library/{image}"
            raise LaunchError(
                "CannotPullContainerError",
                f"pull image manifest has been retried 1 time(s): failed to resolve ref {ref}: not found "
                "(cronbridge never pulls: build or load the image into the local engine first)",
            ) from exc
        except (APIError, DockerException) as exc:
            raise LaunchError("CannotPullContainerError", _explain(exc)) from exc

    def _create_options(self, spec: ContainerSpec) -> dict[str, Any]:
        labels = {LABEL_TASK: spec.task_id, LABEL_CONTAINER: spec.name, **dict(spec.labels)}
        options: dict[str, Any] = {
            "image": spec.image,
            "name": container_name(spec),
            "labels": labels,
            "detach": True,
            "environment": dict(spec.environment),
            "working_dir": spec.working_directory,
            "user": spec.user or "",
            **host_config(spec, self._network_mode(spec)),
        }
        if spec.command is not None:
            options["command"] = list(spec.command)
        if spec.entry_point is not None:
            options["entrypoint"] = list(spec.entry_point)
        if spec.health_check is not None:
            options["healthcheck"] = healthcheck(spec.health_check)
        return options

    def _follow(self, container: Any, spec: ContainerSpec, sink: ContainerSink, since: float | None) -> None:
        readers = [LineReader(s, sink) for s in ("stdout", "stderr")]
        pumps = [
            threading.Thread(target=_pump, args=(self.client, container.id, r, since), daemon=True) for r in readers
        ]
        for pump in pumps:
            pump.start()
        info = _wait(container)
        drain(pumps, readers)
        sink.exited(info)  # the container stays until its task's cleanup, after its exit is on disk: a server
        # killed in between finds it again, with its exit code, instead of a task whose container vanished

    def cleanup(self, task_id: str) -> None:
        """The task's containers (all exited by now) and its task-scoped volumes go with the task."""
        containers: list[Any] = []
        with contextlib.suppress(APIError, DockerException):
            containers = self.client.containers.list(
                all=True, sparse=True, filters={"label": f"{LABEL_TASK}={task_id}"}
            )
        for container in containers:
            with contextlib.suppress(NotFound, APIError):
                container.remove(force=True)
        self._netns.pop(task_id, None)
        volumes: list[Any] = []
        with contextlib.suppress(APIError, DockerException):
            volumes = self.client.volumes.list(filters={"name": f"cb-{task_id}-"})
        for volume in volumes:
            _remove_volume(volume)


class _Starting:
    """A pause container being started (on a helper thread); a failure is raised to whoever waits for it."""

    def __init__(self, holder: Any) -> None:
        self.holder = holder
        self.done = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.holder.start()
            self.holder.reload()
        except (APIError, DockerException) as exc:
            self.error = exc
        finally:
            self.done.set()

    def wait(self, timeout: float = 120) -> None:
        if not self.done.wait(timeout):
            raise APIError("the task's network namespace container did not start in time")
        if self.error is not None:
            raise self.error


def _outbound(public: bool, why: str) -> str:
    return f"unavailable: {why}" if public else "disabled"


def _remove_volume(volume: Any, attempts: int = 40) -> None:
    """A container's removal may still be under way: retry while it is in use."""
    for _ in range(attempts):
        try:
            volume.remove()
            return
        except NotFound:
            return
        except APIError:
            time.sleep(0.05)


OOM_RECHECKS = 10  # the engine may record an OOM kill a moment after the exit (its events arrive apart)
OOM_RECHECK_PAUSE = 0.05


def _wait(container: Any) -> ExitInfo:
    try:
        result = container.wait()
        container.reload()
        for _ in range(OOM_RECHECKS):  # a SIGKILL exit: is it the kernel's OOM killer? ask again until the engine knows
            state = container.attrs.get("State", {})
            limited = bool(container.attrs.get("HostConfig", {}).get("Memory"))
            if not limited or state.get("ExitCode") != 137 or state.get("OOMKilled"):
                break
            time.sleep(OOM_RECHECK_PAUSE)
            container.reload()
    except (APIError, DockerException) as exc:
        return ExitInfo(exit_code=None, reason=f"CannotInspectContainerError: {_explain(exc)}", finished_at=time.time())
    state = container.attrs.get("State", {})
    return ExitInfo(
        exit_code=int(result.get("StatusCode", state.get("ExitCode", -1))),
        reason=state.get("Error") or None,
        oom=bool(state.get("OOMKilled")),
        finished_at=parse_time(state.get("FinishedAt")),
    )


def _pump(client: Any, container_id: str, reader: LineReader, since: float | None) -> None:
    """Follow one output stream, then read it once more from where the follow stopped: the engine's follow can end
    before a fast writer's last lines are read (seen with the `local` driver), and none may be lost."""
    stream = reader.stream
    try:
        reader.read(_logs(client, container_id, stream, True, since))
        if reader.last_ns:
            reader.read(_logs(client, container_id, stream, False, max(reader.last_ns / _NS - 1, 0.001)))
    except (NotFound, APIError):  # the container was removed under the reader: what was read is kept
        pass
    finally:
        reader.close()


def _logs(client: Any, container_id: str, stream: Stream, follow: bool, since: float | None) -> Any:
    return client.api.logs(
        container_id,
        stream=True,
        follow=follow,
        timestamps=True,
        stdout=stream == "stdout",
        stderr=stream == "stderr",
        **({"since": since} if since else {}),
    )


def _explain(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)
