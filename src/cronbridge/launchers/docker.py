"""Containers on a Docker Engine (docker SDK): limits as ECS sets them, output streamed per stream, exits reported."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from datetime import datetime
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from cronbridge.errors import LaunchError
from cronbridge.launchers.base import ContainerSink, ContainerSpec, ExitInfo, Limits, Stream

LABEL_TASK = "cronbridge.task-id"
LABEL_CONTAINER = "cronbridge.container-name"


def container_name(spec: ContainerSpec) -> str:
    """Deterministic, so a restarted server can find the container of a task again."""
    return f"cb-{spec.task_id}-{re.sub(r'[^A-Za-z0-9_.-]', '_', spec.name)}"


def host_config(spec: ContainerSpec) -> dict[str, Any]:
    """cpu as a CPU quota (and shares), memory as the hard limit (no swap), memoryReservation as the soft one."""
    options: dict[str, Any] = {"network_mode": "none", "read_only": spec.readonly_root_filesystem}
    if spec.cpu:
        options["nano_cpus"] = int(spec.cpu / 1024 * 1_000_000_000)
        options["cpu_shares"] = max(spec.cpu, 2)
    if spec.memory:
        options["mem_limit"] = f"{spec.memory}m"
        options["memswap_limit"] = f"{spec.memory}m"
    if spec.memory_reservation:
        options["mem_reservation"] = f"{spec.memory_reservation}m"
    if spec.ulimits:
        options["ulimits"] = [docker.types.Ulimit(name=n, soft=s, hard=h) for n, s, h in spec.ulimits]
    return options


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


class DockerLauncher:
    """Runs each container on the engine at `base_url` (DOCKER_HOST); never pulls: images must be local."""

    name = "docker"

    def __init__(self, base_url: str | None = None) -> None:
        self.client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except (DockerException, OSError):
            return False

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> DockerHandle:
        self._check_image(spec.image)
        try:
            self._remove_stale(container_name(spec))
            container = self.client.containers.create(**self._create_options(spec))
            container.start()
        except (APIError, DockerException) as exc:
            raise LaunchError("CannotStartContainerError", _explain(exc)) from exc
        threading.Thread(target=self._follow, args=(container, sink), daemon=True, name=f"docker-{spec.name}").start()
        return DockerHandle(container, spec)

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

    def _remove_stale(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.client.containers.get(name).remove(force=True)

    def _create_options(self, spec: ContainerSpec) -> dict[str, Any]:
        labels = {LABEL_TASK: spec.task_id, LABEL_CONTAINER: spec.name, **dict(spec.labels)}
        options: dict[str, Any] = {
            "image": spec.image, "name": container_name(spec), "labels": labels, "detach": True,
            "environment": dict(spec.environment), "working_dir": spec.working_directory, "user": spec.user or "",
            **host_config(spec),
        }
        if spec.command is not None:
            options["command"] = list(spec.command)
        if spec.entry_point is not None:
            options["entrypoint"] = list(spec.entry_point)
        return options

    def _follow(self, container: Any, sink: ContainerSink) -> None:
        pumps = [threading.Thread(target=_pump, args=(self.client, container.id, s, sink), daemon=True)
                 for s in ("stdout", "stderr")]
        for pump in pumps:
            pump.start()
        info = _wait(container)
        for pump in pumps:
            pump.join(30)
        sink.exited(info)
        with contextlib.suppress(NotFound, APIError):
            container.remove(force=True)


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


def _pump(client: Any, container_id: str, stream: Stream, sink: ContainerSink) -> None:
    """Follow one output stream from its start; lines keep their order and their engine timestamps."""
    chunks = client.api.logs(container_id, stream=True, follow=True, timestamps=True,
                             stdout=stream == "stdout", stderr=stream == "stderr")
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            _deliver(line, stream, sink)
    if pending:
        _deliver(pending, stream, sink)


def _deliver(raw: bytes, stream: Stream, sink: ContainerSink) -> None:
    stamp, _, message = raw.partition(b" ")
    sink.log(stream, _parse_time(stamp.decode("ascii", "replace")) or time.time(), message.decode("utf-8", "replace"))


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
