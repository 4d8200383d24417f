"""Containers on a Docker Engine (docker SDK): limits as ECS sets them, output streamed per stream, exits reported,
containers found again by label and deterministic name after a restart."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from cronbridge.errors import LaunchError
from cronbridge.launchers.base import ContainerSink, ContainerSpec, ExitInfo, HealthCheck, Limits, Mount, Stream

LABEL_TASK = "cronbridge.task-id"
LABEL_TASK_ARN = "cronbridge.task-arn"
LABEL_CONTAINER = "cronbridge.container-name"
_HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}
_NS = 1_000_000_000
ENGINE_PIECE_BYTES = 16 * 1024  # the engine's log copier cuts lines longer than this into pieces


def container_name(spec: ContainerSpec) -> str:
    """Deterministic, so a restarted server can find the container of a task again."""
    return f"cb-{spec.task_id}-{re.sub(r'[^A-Za-z0-9_.-]', '_', spec.name)}"


def host_config(spec: ContainerSpec) -> dict[str, Any]:
    """cpu as a CPU quota (and shares), memory as the hard limit (no swap), memoryReservation as the soft one."""
    options: dict[str, Any] = {
        "network_mode": "none",
        "read_only": spec.readonly_root_filesystem,
        # the `local` driver keeps raw bytes; json-file turns a UTF-8 character cut at its 16 KiB split into U+FFFD
        "log_config": docker.types.LogConfig(type="local"),
    }
    if spec.network_peer:
        options["network_mode"] = f"container:{spec.network_peer}"  # awsvpc: one namespace per task
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

    def __init__(self, base_url: str | None = None) -> None:
        self.client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except (DockerException, OSError):
            return False

    def prepare(self, spec: ContainerSpec) -> None:
        self._check_image(spec.image)

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> DockerHandle:
        """Create and start; a container of that name already there was created for this very task by a server
        that died before recording it, and is adopted rather than duplicated. When the container whose network
        it was to share has just ended, it gets a namespace of its own."""
        try:
            return self._start(spec, sink)
        except LaunchError:
            if not spec.network_peer:
                raise
        with contextlib.suppress(NotFound, APIError):
            self.client.containers.get(container_name(spec)).remove(force=True)
        return self._start(dataclasses.replace(spec, network_peer=None), sink)

    def _start(self, spec: ContainerSpec, sink: ContainerSink) -> DockerHandle:
        try:
            container = self._create_or_find(spec)
            if container.status == "created":
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
        existing = self._existing(container_name(spec))
        if existing is None:
            raise LaunchError("CannotStartContainerError", f"container name {container_name(spec)} is taken")
        return existing

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
            **host_config(spec),
        }
        if spec.command is not None:
            options["command"] = list(spec.command)
        if spec.entry_point is not None:
            options["entrypoint"] = list(spec.entry_point)
        if spec.health_check is not None:
            options["healthcheck"] = healthcheck(spec.health_check)
        return options

    def _follow(self, container: Any, spec: ContainerSpec, sink: ContainerSink, since: float | None) -> None:
        pumps = [
            threading.Thread(target=_pump, args=(self.client, container.id, s, sink, since), daemon=True)
            for s in ("stdout", "stderr")
        ]
        for pump in pumps:
            pump.start()
        info = _wait(container)
        for pump in pumps:
            pump.join(60)
        sink.exited(info)
        with contextlib.suppress(NotFound, APIError):
            container.remove(force=True)

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
        volumes: list[Any] = []
        with contextlib.suppress(APIError, DockerException):
            volumes = self.client.volumes.list(filters={"name": f"cb-{task_id}-"})
        for volume in volumes:
            _remove_volume(volume)


def _remove_volume(volume: Any, attempts: int = 40) -> None:
    """A container's removal may still be under way (the follower removes it too): retry while it is in use."""
    for _ in range(attempts):
        try:
            volume.remove()
            return
        except NotFound:
            return
        except APIError:
            time.sleep(0.05)


def _wait(container: Any) -> ExitInfo:
    try:
        result = container.wait()
        container.reload()
    except (APIError, DockerException) as exc:
        return ExitInfo(exit_code=None, reason=f"CannotInspectContainerError: {_explain(exc)}", finished_at=time.time())
    state = container.attrs.get("State", {})
    return ExitInfo(
        exit_code=int(result.get("StatusCode", state.get("ExitCode", -1))),
        reason=state.get("Error") or None,
        oom=bool(state.get("OOMKilled")),
        finished_at=_parse_time(state.get("FinishedAt")),
    )


def _pump(client: Any, container_id: str, stream: Stream, sink: ContainerSink, since: float | None) -> None:
    """Follow one output stream, then read it once more from where the follow stopped: the engine's follow can end
    before a fast writer's last lines are read (seen with the `local` driver), and none may be lost."""
    reader = _LineReader(stream, sink)
    options = {"stream": True, "timestamps": True, "stdout": stream == "stdout", "stderr": stream == "stderr"}
    try:
        reader.read(client.api.logs(container_id, follow=True, **options, **({"since": since} if since else {})))
        if reader.last_ns:
            again = max(reader.last_ns / _NS - 1, 0.001)
            reader.read(client.api.logs(container_id, follow=False, since=again, **options))
    except (APIError, DockerException):  # the container was removed under us: what was read is delivered
        pass
    reader.close()


class _LineReader:
    """Log frames to lines. The engine stores a long line as 16 KiB pieces, each with its own timestamp; the `local`
    driver gives back the last piece without its newline, so a piece ends a line when it has the newline or is
    shorter than 16 KiB. Pieces are joined as bytes, so a UTF-8 character cut between pieces survives. Entries
    already read (by timestamp, then count at that timestamp) are skipped when the stream is read again."""

    def __init__(self, stream: Stream, sink: ContainerSink) -> None:
        self.stream = stream
        self.sink = sink
        self.pending = b""
        self.first_stamp = b""
        self.last_ns = 0
        self.at_last = 0

    def read(self, frames: Iterator[bytes]) -> None:
        seen_at_last, replay_ns = 0, self.last_ns
        for frame in frames:
            for stamp, piece in _entries(frame):
                ns = _stamp_ns(stamp)
                if replay_ns and ns <= replay_ns:
                    seen_at_last += ns == replay_ns
                    if ns < replay_ns or seen_at_last <= self.at_last:
                        continue
                    replay_ns = 0
                self._take(stamp, ns, piece)

    def _take(self, stamp: bytes, ns: int, piece: bytes) -> None:
        self.at_last = self.at_last + 1 if ns == self.last_ns else 1
        self.last_ns = ns
        self.first_stamp = self.first_stamp or stamp
        if piece.endswith(b"\n") or len(piece) < ENGINE_PIECE_BYTES:
            _deliver(self.first_stamp, self.pending + piece.removesuffix(b"\n"), self.stream, self.sink)
            self.pending, self.first_stamp = b"", b""
        else:
            self.pending += piece

    def close(self) -> None:
        if self.pending:
            _deliver(self.first_stamp, self.pending, self.stream, self.sink)


def _stamp_ns(stamp: bytes) -> int:
    """RFC 3339 with nanoseconds -> integer nanoseconds (exact, for ordering and de-duplication)."""
    text = stamp.decode("ascii", "replace")
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    if not match:
        return 0
    whole = int(datetime.fromisoformat(match.group(1) + "+00:00").timestamp())
    return whole * _NS + int((match.group(2) or "0").ljust(9, "0")[:9])


def _entries(frame: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(timestamp, piece) for each log entry in a frame; a piece keeps its newline when it ends a line."""
    while frame:
        stamp, _, rest = frame.partition(b" ")
        end = rest.find(b"\n")
        if end < 0:
            yield stamp, rest
            return
        yield stamp, rest[: end + 1]
        frame = rest[end + 1 :]


def _deliver(stamp: bytes, message: bytes, stream: Stream, sink: ContainerSink) -> None:
    when = _parse_time(stamp.decode("ascii", "replace")) or time.time()
    sink.log(stream, when, message.decode("utf-8", "replace"))


def _parse_time(text: str | None) -> float | None:
    """Docker's RFC 3339 timestamps (nanoseconds) to epoch seconds."""
    if not text or text.startswith("0001-"):
        return None
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    if not match:
        return None
    whole = datetime.fromisoformat(match.group(1) + "+00:00").timestamp()
    return whole + float("0." + (match.group(2) or "0"))


def _explain(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)
