"""Tasks on a Docker Swarm: each container of a task a `replicated-job` service (one replica, no restart), the first
placed by Swarm (on the node RunTask chose when the task has placementConstraints), the others pinned to its node;
output from `service logs`, the end from the Swarm task's status; stop, OOM and removal through the node's own engine
when cronbridge can reach it (docs/deploy.md says why, and what happens when it cannot)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.types.daemon import CancellableStream

from cronbridge.errors import LaunchError
from cronbridge.launchers.base import ContainerSink, ContainerSpec, ExitInfo, Instance, Limits, Network, Stream
from cronbridge.launchers.docker import (
    LABEL_CONTAINER,
    LABEL_TASK,
    LABEL_TASK_ARN,
    OOM_RECHECK_PAUSE,
    OOM_RECHECKS,
    healthcheck,
)
from cronbridge.launchers.logframes import NS, LineReader, drain, parse_time
from cronbridge.launchers.swarm_nodes import NodeEngines, instance_of

log = logging.getLogger("cronbridge.swarm")
LABEL_LAUNCHER = "cronbridge.launcher"
FAST_POLL = 0.01  # seconds between looks at Swarm while a container starts or stops
SLOW_POLL = 0.2  # ... while containers only run
START_DEADLINE = 300.0  # a start Swarm neither runs nor refuses is given up (the runner's own bound is shorter)
_TERMINAL = {"complete", "failed", "shutdown", "rejected", "orphaned", "remove"}
_GENERIC_EXIT = re.compile(r"^task: non-zero exit \(\d+\)$")
REMOVED = "Swarm removed the task before its exit code was read"


def service_name(spec: ContainerSpec) -> str:
    """Deterministic and within Swarm's 63 characters, so a restarted server finds the service again."""
    slug = re.sub(r"[^A-Za-z0-9-]", "-", spec.name)[:24].strip("-") or "c"
    digest = hashlib.sha256(spec.name.encode()).hexdigest()[:6]
    return f"cb-{spec.task_id[:20]}-{slug}-{digest}"


def _enforced(spec: ContainerSpec) -> list[str]:
    found = ["cpu:quota"] if spec.cpu else []
    if spec.memory:
        found.append("memory:hard")
    if spec.memory_reservation:
        found.append("memory:reserved")  # Swarm reserves it on the node when placing; the kernel is not told
    return found


def task_template(spec: ContainerSpec, constraints: list[str]) -> dict[str, Any]:
    """The service's TaskTemplate: command, environment, user, limits, reservations, ulimits, health check, host
    network for awsvpc and host tasks, the `local` log driver (it keeps a line's bytes whole), no restart."""
    container: dict[str, Any] = {
        "Image": spec.image,
        "Env": [f"{k}={v}" for k, v in spec.environment],
        "Labels": {LABEL_TASK: spec.task_id, LABEL_CONTAINER: spec.name, **dict(spec.labels)},
        "ReadOnly": spec.readonly_root_filesystem,
        "StopGracePeriod": int(spec.stop_timeout * NS),
        "Mounts": [_mount(m.container_path, m.host_path, m.volume_name, m.read_only) for m in spec.mounts],
        "Ulimits": [{"Name": n, "Soft": s, "Hard": h} for n, s, h in spec.ulimits],
    }
    if spec.entry_point is not None:
        container["Command"] = list(spec.entry_point)
    if spec.command is not None:
        container["Args"] = list(spec.command)
    if spec.user:
        container["User"] = spec.user
    if spec.working_directory:
        container["Dir"] = spec.working_directory
    if spec.health_check is not None:
        container["Healthcheck"] = {k.title().replace("_", ""): v for k, v in healthcheck(spec.health_check).items()}
    template: dict[str, Any] = {
        "ContainerSpec": container,
        "Resources": _resources(spec),
        "RestartPolicy": {"Condition": "none", "MaxAttempts": 0},
        "Placement": {"Constraints": constraints},
        "LogDriver": {"Name": "local"},
    }
    if spec.network_mode in ("awsvpc", "host"):  # the task's containers share a network (the node's), as ECS's do
        template["Networks"] = [{"Target": "host"}]
    return template


def _mount(target: str, host_path: str | None, volume: str | None, read_only: bool) -> dict[str, Any]:
    kind = "bind" if host_path else "volume"
    return {"Target": target, "Source": host_path or volume, "Type": kind, "ReadOnly": read_only}


def _resources(spec: ContainerSpec) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if spec.cpu:
        limits["NanoCPUs"] = int(spec.cpu / 1024 * NS)
    if spec.memory:
        limits["MemoryBytes"] = spec.memory * 1024 * 1024
    reservations = {"MemoryBytes": spec.memory_reservation * 1024 * 1024} if spec.memory_reservation else {}
    return {"Limits": limits, "Reservations": reservations}


class SwarmHandle:
    """One container as a Swarm job: the service, the Swarm task last seen, the node and its engine."""

    def __init__(self, launcher: SwarmLauncher, service_id: str, task: dict[str, Any], spec: ContainerSpec) -> None:
        self.launcher = launcher
        self.service_id = service_id
        self.spec = spec
        self.task = task
        self.node_id = str(task.get("NodeID", ""))
        self.runtime_id = _container_id(task)
        self.limits = Limits(enforced=_enforced(spec))
        self.node: str | None = launcher.nodes.describe(self.node_id)
        self.ended = threading.Event()
        self.gone = False  # Swarm removed the task (a stop without the node's engine)
        self._exit_code: int | None = None
        self._streams: list[CancellableStream] = []
        self._lock = threading.Lock()

    def stop(self, timeout: float) -> None:
        threading.Thread(target=self.launcher.stop_container, args=(self, timeout), daemon=True).start()

    def health(self) -> str:
        """The engine's verdict when the node's engine answers; else Swarm's: a task with a health check becomes
        `running` only once healthy, and fails (`unhealthy container`) when its checks fail before that."""
        engine = self.launcher.nodes.engine(self.node_id)
        if engine is not None and self.runtime_id:
            with contextlib.suppress(APIError, DockerException):
                state = engine.api.inspect_container(self.runtime_id).get("State", {})
                status = (state.get("Health") or {}).get("Status", "")
                return {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}.get(status, "UNKNOWN")
        state, error = self.task["Status"].get("State"), self.task["Status"].get("Err") or ""
        if "unhealthy" in error:
            return "UNHEALTHY"
        return "HEALTHY" if state == "running" else "UNKNOWN"

    def seen(self, task: dict[str, Any] | None) -> None:
        """The watcher's latest look at the Swarm task (None: the task is gone)."""
        if task is None:
            self.gone = True
            self.ended.set()
            return
        self.task = task
        self.runtime_id = self.runtime_id or _container_id(task)
        if task["Status"].get("State") in _TERMINAL:
            self._exit_code = task["Status"].get("ContainerStatus", {}).get("ExitCode", self._exit_code)
            self.ended.set()

    def follow_logs(self, stream: CancellableStream) -> bool:
        """Keep a following log stream to close at the end; False when the end has already come."""
        with self._lock:
            if self.ended.is_set():
                stream.close()
                return False
            self._streams.append(stream)
            return True

    def close_logs(self) -> None:
        with self._lock:
            streams, self._streams = self._streams, []
        for stream in streams:
            with contextlib.suppress(Exception):
                stream.close()

    def exit_info(self) -> ExitInfo:
        """The exit code Swarm recorded; the kernel's OOM record and the finish time from the node's engine."""
        status = self.task["Status"]
        if self.gone and status.get("State") not in _TERMINAL:
            return ExitInfo(exit_code=None, reason=REMOVED, finished_at=time.time())
        error = status.get("Err") or ""
        state = self._container_state()  # {} without the node's engine
        for _ in range(OOM_RECHECKS):  # a SIGKILL exit of a limited container: the OOM record may come a moment later
            if not state or not self.spec.memory or state.get("ExitCode") != 137 or state.get("OOMKilled"):
                break
            time.sleep(OOM_RECHECK_PAUSE)
            state = self._container_state()
        return ExitInfo(
            exit_code=self._exit_code if self._exit_code is not None else state.get("ExitCode"),
            reason=None if not error or _GENERIC_EXIT.match(error) else error,
            oom=bool(state.get("OOMKilled")),
            finished_at=parse_time(state.get("FinishedAt")) or parse_time(status.get("Timestamp")),
        )

    def _container_state(self) -> dict[str, Any]:
        engine = self.launcher.nodes.engine(self.node_id)
        if engine is None or not self.runtime_id:
            return {}
        with contextlib.suppress(APIError, DockerException):
            return dict(engine.api.inspect_container(self.runtime_id).get("State", {}))
        return {}


class SwarmLauncher:
    """Runs each container as a Swarm job through the manager at `base_url` (DOCKER_HOST); never pulls: the
    image must be on the node (a node's engine may try a registry first; see docs/deploy.md)."""

    name = "swarm"
    start_can_hang = True  # the manager may stop answering: the runner bounds the start
    outlives_server = True

    def __init__(self, base_url: str | None = None) -> None:
        self.client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        self.nodes = NodeEngines(self.client)
        self.watcher = _Watcher(self.client.api)
        self._lock = threading.Lock()
        self._placed: dict[str, str] = {}  # task id -> the node its first container went to

    def ping(self) -> bool:
        """A manager of an active Swarm answers."""
        try:
            swarm = self.client.info().get("Swarm", {})
        except (DockerException, OSError):
            return False
        return swarm.get("LocalNodeState") == "active" and bool(swarm.get("ControlAvailable"))

    def instances(self) -> list[Instance]:
        """The Swarm's nodes as container instances (ready and active ones can take tasks)."""
        try:
            return [instance_of(node) for node in self.client.api.nodes()]
        except (APIError, DockerException, OSError) as exc:
            raise LaunchError("ResourceInitializationError", f"cannot list the Swarm's nodes: {_explain(exc)}") from exc

    def prepare(self, spec: ContainerSpec) -> None:
        """Nothing to pull: the node's engine has the image or refuses the task."""
        return None

    def network(self, task_id: str, task_arn: str, public: bool) -> Network:
        """The task's containers share the network of the node they run on (Swarm cannot join one container to
        another's namespace); outbound access is whatever that node has."""
        return Network(namespace="host", outbound="host")

    # start ------------------------------------------------------------------------------------------------------
    def start(self, spec: ContainerSpec, sink: ContainerSink) -> SwarmHandle:
        """Create the service (or find the one a server that died created for this very task) and return once
        Swarm runs its container, or has already run it."""
        try:
            service_id = self._create_or_find(spec)
            task = self._await_start(service_id, spec)
        except (APIError, DockerException) as exc:
            raise LaunchError("CannotStartContainerError", _explain(exc)) from exc
        handle = SwarmHandle(self, service_id, task, spec)
        with self._lock:
            self._placed.setdefault(spec.task_id, handle.node_id)
        self._follow_in_background(handle, sink, None)
        return handle

    def _create_or_find(self, spec: ContainerSpec) -> str:
        constraints = self._constraints(spec)
        labels = {LABEL_TASK: spec.task_id, LABEL_TASK_ARN: spec.task_arn, LABEL_CONTAINER: spec.name,
                  LABEL_LAUNCHER: self.name}  # fmt: skip
        try:
            created = self.client.api.create_service(
                task_template(spec, constraints),
                name=service_name(spec),
                labels=labels,
                mode=docker.types.ServiceMode("replicated-job", concurrency=1, replicas=1),
            )
            return str(created["ID"])
        except APIError as exc:
            if exc.status_code != 409:
                raise
        existing = self._service(service_name(spec))
        if existing is None or existing["Spec"].get("Labels", {}).get(LABEL_TASK_ARN) != spec.task_arn:
            raise LaunchError("CannotStartContainerError", f"service name {service_name(spec)} is taken")
        return str(existing["ID"])

    def _await_start(self, service_id: str, spec: ContainerSpec) -> dict[str, Any]:
        """The Swarm task once its container runs (a task with a health check: once it is started, as Swarm calls
        it `running` only when healthy) or has ended; LaunchError when Swarm refuses it."""
        ready = threading.Event()
        seen: list[dict[str, Any] | None] = [None]
        began = time.monotonic()

        def look(task: dict[str, Any] | None) -> None:
            seen[0] = task
            if task is None:  # not created yet, or the service is gone (a start the runner gave up on)
                if time.monotonic() - began > 2 and not self._exists(service_id):
                    ready.set()
            elif _started(task, spec) or _refused(task) is not None:
                ready.set()

        self.watcher.watch(service_id, look, urgent=True)
        try:
            if not ready.wait(START_DEADLINE):
                why = f"Swarm did not start the task in {START_DEADLINE:g}s"
                raise LaunchError("ContainerRuntimeTimeoutError", why)
        finally:
            self.watcher.unwatch(service_id)
        task = seen[0]
        if task is None:
            raise LaunchError("CannotStartContainerError", "the Swarm service was removed before its task started")
        refusal = _refused(task)
        if refusal is not None:
            raise refusal
        return task

    def _exists(self, service_id: str) -> bool:
        try:
            self.client.api.inspect_service(service_id)
        except NotFound:
            return False
        except (APIError, DockerException):
            return True  # the manager may be busy: the service is not known to be gone
        return True

    def _constraints(self, spec: ContainerSpec) -> list[str]:
        """The node of the task's first container; for the first, the node RunTask placed the task on, if any."""
        pinned = self._pinned(spec.task_id) or spec.instance_id
        return [f"node.id=={pinned}"] if pinned else []

    def _pinned(self, task_id: str) -> str | None:
        with self._lock:
            return self._placed.get(task_id)

    # following ------------------------------------------------------------------------------------------------
    def _follow_in_background(self, handle: SwarmHandle, sink: ContainerSink, since: float | None) -> None:
        threading.Thread(
            target=self._follow, args=(handle, sink, since), daemon=True, name=f"swarm-{handle.spec.name}"
        ).start()

    def _follow(self, handle: SwarmHandle, sink: ContainerSink, since: float | None) -> None:
        readers = [LineReader(s, sink) for s in ("stdout", "stderr")]
        pumps = [threading.Thread(target=self._pump, args=(handle, r, since), daemon=True) for r in readers]
        for pump in pumps:
            pump.start()
        self.watcher.watch(handle.service_id, handle.seen)
        handle.ended.wait()
        self.watcher.unwatch(handle.service_id)
        handle.close_logs()
        drain(pumps, readers)
        sink.exited(handle.exit_info())

    def _pump(self, handle: SwarmHandle, reader: LineReader, since: float | None) -> None:
        """Follow one output stream (again from where it stopped, should Swarm end it early), then read it once more
        after the end: a follow stops short of the last lines."""
        stream = reader.stream
        try:
            while not handle.ended.is_set():
                with contextlib.suppress(Exception):  # closed under the reader at the end, or the manager failed
                    follow = self._logs(handle.service_id, stream, True, _resume(reader, since))
                    if handle.follow_logs(follow):
                        reader.read(follow)
                handle.ended.wait(0.5)
            with contextlib.suppress(APIError, DockerException):
                reader.read(self._logs(handle.service_id, stream, False, _resume(reader, since)))
        finally:
            reader.close()

    def _logs(self, service_id: str, stream: Stream, follow: bool, since: float | None) -> CancellableStream:
        api = self.client.api
        params: dict[str, Any] = {"follow": follow, "timestamps": True, "stdout": stream == "stdout",
                                  "stderr": stream == "stderr", "tail": "all"}  # fmt: skip
        if since:
            params["since"] = f"{since:.9f}"
        url = api._url("/services/{0}/logs", service_id)
        # a follow waits as long as the container is quiet; it is closed at the end, not timed out
        response = api._get(url, params=params, stream=True, **({"timeout": None} if follow else {}))
        api._raise_for_status(response)
        return CancellableStream(api._multiplexed_response_stream_helper(response), response)

    # stop, adopt, clean up ----------------------------------------------------------------------------------------
    def stop_container(self, handle: SwarmHandle, timeout: float) -> None:
        """`docker stop` on the node's engine (SIGTERM, SIGKILL after `timeout`): the container ends, Swarm records
        its exit and keeps its logs. Without the node's engine, Swarm stops it (SIGTERM, SIGKILL after the stop
        grace period set at creation) and removes it."""
        engine = self.nodes.engine(handle.node_id)
        if engine is not None and handle.runtime_id:
            with contextlib.suppress(NotFound, APIError, DockerException):
                engine.api.stop(handle.runtime_id, timeout=int(timeout))
                return
        self.watcher.hurry(handle.service_id)
        with contextlib.suppress(NotFound, APIError, DockerException):
            self._no_more_runs(handle.service_id)

    def _no_more_runs(self, service_id: str) -> None:
        """Lower the job's completions to none: Swarm shuts its running task down and removes it."""
        service = self.client.api.inspect_service(service_id)
        spec = service["Spec"]
        spec["Mode"] = {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 0}}
        api = self.client.api
        response = api._post_json(
            api._url("/services/{0}/update", service_id), data=spec, params={"version": service["Version"]["Index"]}
        )
        api._raise_for_status(response)

    def adopt(self, spec: ContainerSpec, sink: ContainerSink, since: float | None) -> SwarmHandle | None:
        """Follow again the job a previous server started for `spec` (Swarm kept running it): logs from `since`,
        then its exit (at once when it ended while nobody watched)."""
        service = self._service(service_name(spec))
        if service is None or service["Spec"].get("Labels", {}).get(LABEL_TASK_ARN) != spec.task_arn:
            return None
        task = self.watcher.look(str(service["ID"]))
        if task is None or not _container_id(task):
            return None
        handle = SwarmHandle(self, str(service["ID"]), task, spec)
        with self._lock:
            self._placed.setdefault(spec.task_id, handle.node_id)
        self._follow_in_background(handle, sink, since)
        return handle

    def abandon(self, task_id: str, name: str, runtime_id: str | None) -> str:
        """A job that cannot be adopted is stopped and removed; says what happened."""
        service = self._service(service_name(ContainerSpec(task_id=task_id, name=name, image="")))
        if service is None:
            return "Swarm did not recognize the service after a cronbridge restart"
        self._remove(service)
        return "its Swarm service was removed after a cronbridge restart"

    def cleanup(self, task_id: str) -> None:
        """The task's services (their containers have ended) go, with the containers Swarm leaves behind."""
        services: list[dict[str, Any]] = []
        with contextlib.suppress(APIError, DockerException):
            services = self.client.api.services(filters={"label": f"{LABEL_TASK}={task_id}"})
        for service in services:
            self._remove(service)
        with self._lock:
            node_id = self._placed.pop(task_id, None)
        engine = self.nodes.engine(node_id) if node_id else None
        if engine is not None:  # the task-scoped volumes its containers shared on that node
            _remove_volumes(engine, task_id)

    def _remove(self, service: dict[str, Any]) -> None:
        """Remove a service and its container: Swarm itself leaves a job's container (and a running one keeps
        running) when its service is removed (moby/moby#44312), so the node's engine removes it; without that
        engine a running job is first shut down by Swarm."""
        task = self.watcher.look(str(service["ID"]))
        engine = self.nodes.engine(str(task.get("NodeID", ""))) if task else None
        if task and engine is None and task["Status"].get("State") not in _TERMINAL:
            with contextlib.suppress(APIError, DockerException):
                self._no_more_runs(str(service["ID"]))
                self._await_gone(str(service["ID"]))
        with contextlib.suppress(NotFound, APIError, DockerException):
            self.client.api.remove_service(service["ID"])
        if task and engine is not None and _container_id(task):
            with contextlib.suppress(NotFound, APIError, DockerException):
                engine.api.remove_container(_container_id(task), force=True)

    def _await_gone(self, service_id: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.watcher.look(service_id) is not None:
            time.sleep(0.1)

    def _service(self, name: str) -> dict[str, Any] | None:
        with contextlib.suppress(NotFound, APIError, DockerException):
            found = self.client.api.services(filters={"name": name})
            return next((dict(s) for s in found if s["Spec"]["Name"] == name), None)
        return None


class _Watcher:
    """One thread reads the Swarm tasks of every watched service in one request a round (every SLOW_POLL seconds,
    every FAST_POLL while a container starts or stops) and hands each service's newest task to its callback."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self._lock = threading.Lock()
        self._watched: dict[str, Callable[[dict[str, Any] | None], None]] = {}
        self._urgent: dict[str, float] = {}  # service id -> until when it is looked at often
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, service_id: str, callback: Callable[[dict[str, Any] | None], None], urgent: bool = False) -> None:
        with self._lock:
            self._watched[service_id] = callback
            if urgent:
                self._urgent[service_id] = time.monotonic() + START_DEADLINE
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="swarm-watch")
                self._thread.start()
        self._wake.set()

    def unwatch(self, service_id: str) -> None:
        with self._lock:
            self._watched.pop(service_id, None)
            self._urgent.pop(service_id, None)

    def hurry(self, service_id: str, seconds: float = 120) -> None:
        """Look often at a service for a while (a stop is under way)."""
        with self._lock:
            self._urgent[service_id] = time.monotonic() + seconds
        self._wake.set()

    def look(self, service_id: str) -> dict[str, Any] | None:
        """The service's newest task now (None: it has none, or Swarm does not answer)."""
        with contextlib.suppress(APIError, DockerException):
            return _newest(self.api.tasks(filters={"service": service_id})).get(service_id)
        return None

    def _run(self) -> None:
        while True:
            with self._lock:
                watched = dict(self._watched)
                now = time.monotonic()
                urgent = any(until > now for sid, until in self._urgent.items() if sid in watched)
            if not watched:
                self._wake.wait()
                self._wake.clear()
                continue
            self._round(watched)
            self._wake.wait(FAST_POLL if urgent else SLOW_POLL)
            self._wake.clear()

    def _round(self, watched: dict[str, Callable[[dict[str, Any] | None], None]]) -> None:
        ids = list(watched)
        tasks: dict[str, dict[str, Any]] = {}
        try:
            for at in range(0, len(ids), 100):
                tasks.update(_newest(self.api.tasks(filters={"service": ids[at : at + 100]})))
        except (APIError, DockerException, OSError) as exc:
            log.warning("Swarm did not list tasks: %s", exc)
            time.sleep(1)
            return
        for service_id, callback in watched.items():
            try:
                callback(tasks.get(service_id))
            except Exception:  # one task's bookkeeping must not stop the others being watched
                log.exception("watching Swarm service %s", service_id)


def _newest(tasks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each service's newest task (a job has one; a task Swarm re-created later has a higher version)."""
    newest: dict[str, dict[str, Any]] = {}
    for task in tasks:
        service_id = str(task.get("ServiceID", ""))
        previous = newest.get(service_id)
        if previous is None or _version(task) > _version(previous):
            newest[service_id] = task
    return newest


def _version(task: dict[str, Any]) -> int:
    return int((task.get("Version") or {}).get("Index", 0))


def _container_id(task: dict[str, Any]) -> str:
    return str(((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID") or "")


def _started(task: dict[str, Any], spec: ContainerSpec) -> bool:
    state = task["Status"].get("State")
    if state == "running" or (state in _TERMINAL and _ran(task)):
        return True
    return state == "starting" and spec.health_check is not None and bool(_container_id(task))


def _ran(task: dict[str, Any]) -> bool:
    """A container that started and exited (as opposed to one that never started)."""
    state, error = task["Status"].get("State"), task["Status"].get("Err") or ""
    return state == "complete" or (bool(_container_id(task)) and (not error or error.startswith("task: non-zero")))


def _refused(task: dict[str, Any]) -> LaunchError | None:
    """Why Swarm will not run the task: no node can hold it, the node lacks the image, the container failed to
    start; None while it may still run."""
    state, error = task["Status"].get("State"), task["Status"].get("Err") or ""
    if state == "pending" and "no suitable node" in error:
        return LaunchError("ResourceInitializationError", f"no Swarm node can run the container: {error}")
    if state not in _TERMINAL or _ran(task):
        return None
    image = task["Spec"]["ContainerSpec"].get("Image", "")
    if "No such image" in error:
        ref = image if "/" in image else f"docker.io/library/{image}"
        return LaunchError(
            "CannotPullContainerError",
            f"pull image manifest has been retried 1 time(s): failed to resolve ref {ref}: not found "
            f"(cronbridge never pulls: load the image into every Swarm node's engine first; Swarm said: {error})",
        )
    return LaunchError("CannotStartContainerError", error or f"Swarm ended the task ({state}) before it started")


def _remove_volumes(engine: Any, task_id: str) -> None:
    volumes: list[Any] = []
    with contextlib.suppress(APIError, DockerException):
        volumes = engine.volumes.list(filters={"name": f"cb-{task_id}-"})
    for volume in volumes:
        for _ in range(40):  # a container's removal may still hold it
            try:
                volume.remove()
                break
            except NotFound:
                break
            except APIError:
                time.sleep(0.05)


def _resume(reader: LineReader, since: float | None) -> float | None:
    """Where to read a stream from again: a second before the last entry read (entries read are skipped)."""
    if reader.last_ns:
        return max(reader.last_ns / NS - 1, since or 0.001)
    return since


def _explain(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)
