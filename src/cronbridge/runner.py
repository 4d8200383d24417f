"""RunTask and StopTask: validate, record the task, start its containers through a launcher, follow its lifecycle."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cronbridge import arn as arns
from cronbridge.authorizer import Authorizer
from cronbridge.awslogs import AwsLogsOptions, AwsLogsWriter
from cronbridge.clock import Clock
from cronbridge.codec import encode
from cronbridge.ecs import fargate
from cronbridge.ecs.service import EcsService
from cronbridge.errors import AwsError, ClientError, Conflict, InvalidParameter, LaunchError
from cronbridge.launchers.base import ContainerHandle, ContainerSpec, ExitInfo, Launcher, Stream
from cronbridge.logs.service import LogService
from cronbridge.model.ecs import (
    Attachment,
    Container,
    ContainerDefinition,
    KeyValue,
    StopCode,
    Tag,
    Task,
    TaskDefinition,
    TaskOverride,
    TaskStatus,
)

log = logging.getLogger("cronbridge.runner")
MAX_OVERRIDE_CHARS = 8192
DEFAULT_STOP_TIMEOUT = 30.0
STOPPED_TASK_TTL = 3600.0


@dataclass
class RunTaskRequest:
    """A RunTask call in domain terms."""

    region: str
    account: str
    task_definition: str
    cluster: str = "default"
    count: int = 1
    launch_type: str | None = None
    platform_version: str | None = None
    network_configuration: dict[str, Any] | None = None
    overrides: TaskOverride | None = None
    started_by: str | None = None
    group: str | None = None
    client_token: str | None = None
    enable_execute_command: bool = False
    tags: list[Tag] | None = None
    propagate_tags: str | None = None


@dataclass
class Failure:
    arn: str | None
    reason: str
    detail: str | None = None


@dataclass
class RunTaskResult:
    tasks: list[Task]
    failures: list[Failure] = field(default_factory=list)


class Runner:
    """Owns every live task: starts it, streams its logs, records each lifecycle step, stops it."""

    def __init__(self, ecs: EcsService, logs: LogService, launcher: Launcher, clock: Clock) -> None:
        self.ecs = ecs
        self.logs = logs
        self.launcher = launcher
        self.clock = clock
        self._live: dict[str, LiveTask] = {}
        self._lock = threading.RLock()
        self.on_transition: Callable[[Task], None] | None = None
        self.authorizer: Authorizer | None = None
        self._last_sweep = 0.0

    # RunTask --------------------------------------------------------------
    def run_task(self, req: RunTaskRequest) -> RunTaskResult:
        cluster = self.ecs.cluster(req.cluster)
        definition = self.ecs.task_definition(req.task_definition)
        if definition.status != "ACTIVE":
            raise ClientError("TaskDefinition is inactive")
        overrides = req.overrides or TaskOverride()
        _check_request(req, definition, overrides)
        with self._lock, self.ecs.db.transaction():  # the token check and the new tasks: atomic across processes
            if req.client_token:
                previous = self._replay(req, cluster.cluster_arn)
                if previous is not None:
                    return previous
            tasks = [self._new_task(req, cluster.cluster_arn, definition, overrides) for _ in range(req.count)]
            for task in tasks:
                self.ecs.tasks.save(task)
        for task in tasks:
            self._launch(task, definition)
        self._expire_old_tasks()
        return RunTaskResult(tasks=[dataclasses.replace(t) for t in tasks])

    def _expire_old_tasks(self) -> None:
        """Stopped tasks stay visible for an hour, as on ECS; swept at most once a minute."""
        now = self.clock.now()
        if now - self._last_sweep >= 60:
            self._last_sweep = now
            self.ecs.tasks.expire_stopped(now - STOPPED_TASK_TTL)

    def _replay(self, req: RunTaskRequest, cluster_arn: str) -> RunTaskResult | None:
        assert req.client_token is not None
        previous = self.ecs.tasks.by_client_token(req.client_token)
        if not previous:
            return None
        fingerprint = _fingerprint(req)
        if any(t.cluster_arn != cluster_arn or t.request_fingerprint != fingerprint for t in previous):
            raise Conflict("The specified client token has already been used with different parameters.")
        return RunTaskResult(tasks=previous)

    def _new_task(
        self, req: RunTaskRequest, cluster_arn: str, definition: TaskDefinition, overrides: TaskOverride
    ) -> Task:
        task_id = uuid.uuid4().hex
        cluster_name = cluster_arn.rsplit("/", 1)[-1]
        task_arn = arns.build("ecs", req.region, req.account, f"task/{cluster_name}/{task_id}")
        now = self.clock.now()
        return Task(
            task_arn=task_arn,
            cluster_arn=cluster_arn,
            task_definition_arn=definition.task_definition_arn,
            launch_type=req.launch_type or "FARGATE",
            cpu=overrides.cpu or definition.cpu,
            memory=overrides.memory or definition.memory,
            containers=[_container(req, cluster_name, task_id, task_arn, c) for c in definition.container_definitions],
            overrides=overrides,
            started_by=req.started_by,
            group=req.group or f"family:{definition.family}",
            created_at=now,
            platform_version=req.platform_version or ("1.4.0" if (req.launch_type or "FARGATE") == "FARGATE" else None),
            availability_zone=f"{req.region}a",
            attachments=_attachments(req, definition),
            tags=req.tags,
            enable_execute_command=req.enable_execute_command,
            launcher=self.launcher.name,
            client_token=req.client_token,
            request_fingerprint=_fingerprint(req) if req.client_token else None,
        )

    def _launch(self, task: Task, definition: TaskDefinition) -> None:
        live = LiveTask(self, task, definition)
        with self._lock:
            self._live[task.task_arn] = live
        threading.Thread(target=live.run, daemon=True, name=f"task-{task.task_id[:8]}").start()

    # StopTask -------------------------------------------------------------
    def stop_task(self, cluster_ref: str | None, task_ref: str, reason: str | None) -> Task:
        cluster = self.ecs.cluster(cluster_ref)
        task = self.ecs.task(cluster, task_ref)
        with self._lock:
            live = self._live.get(task.task_arn)
        if live is None:
            return task
        return live.request_stop(reason or "Task stopped by user", StopCode.USER_INITIATED)

    def stop_all(self) -> None:
        with self._lock:
            live = list(self._live.values())
        for task in live:
            task.request_stop("cronbridge is resetting", StopCode.USER_INITIATED)
        for task in live:
            task.done.wait(5)

    def close(self) -> None:
        self.stop_all()

    def recover(self) -> None:
        """Tasks a previous server left unfinished: their runner is gone, so they are stopped, saying why."""
        now = self.clock.now()
        with self._lock:
            ours = set(self._live)
        for task in self.ecs.tasks.unfinished():
            if task.task_arn in ours:  # a task this process runs (another server on the database had the rest)
                continue
            task.last_status = TaskStatus.STOPPED
            task.desired_status = "STOPPED"
            task.stopped_at = task.execution_stopped_at = now
            task.stop_code = StopCode.TASK_FAILED_TO_START if task.started_at is None else StopCode.USER_INITIATED
            task.stopped_reason = (
                "Task stopped: the cronbridge server restarted while the task ran, and its "
                f"{task.launcher or 'process'} launcher could not re-attach to it"
            )
            for c in task.containers:
                if c.last_status != "STOPPED":
                    c.last_status, c.reason = "STOPPED", "The cronbridge server restarted"
            self.ecs.tasks.save(task)

    def forget(self, task_arn: str) -> None:
        with self._lock:
            self._live.pop(task_arn, None)

    def transition(self, task: Task) -> None:
        self.ecs.tasks.save(task)
        if self.on_transition is not None:
            self.on_transition(task)


class LiveTask:
    """One running task: drives its lifecycle on its own thread."""

    def __init__(self, runner: Runner, task: Task, definition: TaskDefinition) -> None:
        self.runner = runner
        self.task = task
        self.definition = definition
        self.lock = threading.RLock()
        self.handles: dict[str, ContainerHandle] = {}
        self.writers: dict[str, AwsLogsWriter] = {}
        self.exits: dict[str, threading.Event] = {c.name: threading.Event() for c in task.containers}
        self.done = threading.Event()
        self.stop_requested: tuple[str, StopCode] | None = None

    @property
    def now(self) -> float:
        return self.runner.clock.now()

    def set_status(self, status: TaskStatus) -> None:
        with self.lock:
            self.task.last_status = status
            self.task.version += 1
            self.runner.transition(self.task)

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a bug of ours must still end the task visibly
            log.exception("task %s failed inside cronbridge", self.task.task_arn)
            self._finish(StopCode.TASK_FAILED_TO_START, f"CannotStartContainerError: internal error: {exc}")
        finally:
            self.done.set()
            self.runner.forget(self.task.task_arn)

    def _run(self) -> None:
        self.set_status(TaskStatus.PENDING)
        self.set_status(TaskStatus.ACTIVATING)
        try:
            if self.runner.authorizer is not None:  # IAM: the execution role must allow writing the logs
                self.runner.authorizer.check_task_start(self.task, self.definition)
            self._prepare_logs()
            self.task.pull_started_at = self.now
            self._start_containers()
            self.task.pull_stopped_at = self.now
        except LaunchError as err:
            self._stop_started(DEFAULT_STOP_TIMEOUT)
            self._finish(StopCode.TASK_FAILED_TO_START, str(err))
            return
        with self.lock:
            if self.stop_requested is None:
                self.task.started_at = self.now
                self.set_status(TaskStatus.RUNNING)
        self._wait_for_end()

    def _prepare_logs(self) -> None:
        for c in self.definition.container_definitions:
            config = c.log_configuration
            if config is None or config.log_driver != "awslogs":
                continue
            options = AwsLogsOptions.from_options(config.options)
            if not self.runner.logs.group_exists(options.group):
                if not options.create_group:
                    raise LaunchError(
                        "ResourceInitializationError",
                        "failed to validate logger args: create stream has been retried 1 times: failed to create "
                        "Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. "
                        f"(log group {options.group!r}; create it, or set awslogs-create-group to \"true\")",
                    )
                self._create_group(options.group)

    def _create_group(self, group: str) -> None:
        try:
            self.runner.logs.create_group(group)
        except AwsError as err:
            if err.code != "ResourceAlreadyExistsException":
                raise LaunchError("ResourceInitializationError", f"failed to create log group: {err.message}") from err

    def _start_containers(self) -> None:
        for definition in self.definition.container_definitions:
            if self.stop_requested is not None:
                return
            container = self._container(definition.name)
            spec = self._spec(definition)
            sink = Sink(self, definition.name)
            handle = self.runner.launcher.start(spec, sink)
            with self.lock:
                self.handles[definition.name] = handle
                container.runtime_id = handle.runtime_id
                container.last_status = "RUNNING"
                container.limits_enforced = list(handle.limits.enforced)
            sink.attach(self._open_log(definition, handle.runtime_id))

    def _open_log(self, definition: ContainerDefinition, runtime_id: str) -> AwsLogsWriter | None:
        config = definition.log_configuration
        if config is None or config.log_driver != "awslogs":
            return None
        options = AwsLogsOptions.from_options(config.options)
        stream = options.stream_name(definition.name, self.task.task_id, runtime_id)
        self.runner.logs.ensure_stream(options.group, stream)
        writer = AwsLogsWriter(self.runner.logs.append, options.group, stream)
        with self.lock:
            self.writers[definition.name] = writer
        return writer

    def _spec(self, definition: ContainerDefinition) -> ContainerSpec:
        override = next(
            (o for o in self.task.overrides.container_overrides if o.name == definition.name), None
        )
        env = {kv.name: kv.value or "" for kv in definition.environment or [] if kv.name}
        if override is not None:
            env.update({kv.name: kv.value or "" for kv in override.environment or [] if kv.name})
        if self.runner.authorizer is not None:  # the task role's credentials endpoint, as ECS serves it
            env.update(self.runner.authorizer.task_environment(self.task, self.definition))
        command = override.command if override is not None and override.command is not None else definition.command
        return ContainerSpec(
            task_id=self.task.task_id,
            name=definition.name,
            image=definition.image,
            command=tuple(command) if command is not None else None,
            entry_point=tuple(definition.entry_point) if definition.entry_point else None,
            environment=tuple(env.items()),
            working_directory=definition.working_directory,
            user=definition.user,
            cpu=_container_cpu(self.task, definition, override),
            memory=_container_memory(self.task, definition, override),
            memory_reservation=(override.memory_reservation if override else None) or definition.memory_reservation,
            readonly_root_filesystem=bool(definition.readonly_root_filesystem),
            network_mode=self.definition.network_mode or "awsvpc",
            labels=(("cronbridge.task-arn", self.task.task_arn),),
        )

    def _container(self, name: str) -> Container:
        return next(c for c in self.task.containers if c.name == name)

    # running and stopping ------------------------------------------------
    def container_exited(self, name: str, info: ExitInfo) -> None:
        writer = self.writers.get(name)
        if writer is not None:
            writer.close()
        with self.lock:
            container = self._container(name)
            container.last_status = "STOPPED"
            container.exit_code = info.exit_code
            if info.oom:
                container.reason = "OutOfMemoryError: Container killed due to memory usage"
            elif info.reason:
                container.reason = info.reason
            self.runner.transition(self.task)
        self.exits[name].set()

    def _wait_for_end(self) -> None:
        essentials = [c.name for c in self.definition.container_definitions if c.essential is not False]
        while not any(self.exits[name].wait(0.05) for name in essentials):
            if self.stop_requested is not None:
                break
        if self.stop_requested is not None:
            reason, code = self.stop_requested
        else:
            reason, code = "Essential container in task exited", StopCode.ESSENTIAL_CONTAINER_EXITED
        self.task.stopping_at = self.task.stopping_at or self.now
        self.set_status(TaskStatus.DEACTIVATING)
        self.set_status(TaskStatus.STOPPING)
        self._stop_started(self._stop_timeout())
        self._finish(code, reason)

    def _stop_timeout(self) -> float:
        timeouts = [c.stop_timeout for c in self.definition.container_definitions if c.stop_timeout]
        return float(max(timeouts)) if timeouts else DEFAULT_STOP_TIMEOUT

    def _stop_started(self, timeout: float) -> None:
        with self.lock:
            running = [(n, h) for n, h in self.handles.items() if not self.exits[n].is_set()]
        for _name, handle in running:
            handle.stop(timeout)
        for name, _handle in running:
            self.exits[name].wait(timeout + 10)

    def request_stop(self, reason: str, code: StopCode) -> Task:
        with self.lock:
            if self.stop_requested is None:
                self.stop_requested = (reason, code)
                self.task.desired_status = "STOPPED"
                self.task.stopping_at = self.now
                self.runner.transition(self.task)
            return dataclasses.replace(self.task)

    def _finish(self, code: StopCode, reason: str) -> None:
        for writer in list(self.writers.values()):
            writer.close()
        with self.lock:
            self.task.execution_stopped_at = self.now
            self.set_status(TaskStatus.DEPROVISIONING)
            self.task.desired_status = "STOPPED"
            self.task.stop_code = code
            self.task.stopped_reason = reason
            self.task.stopped_at = self.now
            for container in self.task.containers:
                if container.last_status != "STOPPED":
                    container.last_status = "STOPPED"
            self.set_status(TaskStatus.STOPPED)


class Sink:
    """Where a launcher delivers one container's output and exit. Output that arrives before the log stream is
    open (a fast container can finish before `start` returns) is held and delivered once it opens."""

    def __init__(self, task: LiveTask, name: str) -> None:
        self.task = task
        self.name = name
        self._lock = threading.Lock()
        self._held: list[tuple[float, str]] = []
        self._writer: AwsLogsWriter | None = None
        self._attached = False
        self._exit: ExitInfo | None = None

    def log(self, stream: Stream, timestamp: float, line: str) -> None:
        with self._lock:
            if not self._attached:
                self._held.append((timestamp, line))
                return
            writer = self._writer
        if writer is not None:
            writer.write(timestamp, line)

    def attach(self, writer: AwsLogsWriter | None) -> None:
        """The log destination is known (None: the container has no awslogs); deliver what was held."""
        with self._lock:
            self._writer, self._attached = writer, True
            held, self._held = self._held, []
            exit_info = self._exit
        if writer is not None:
            for timestamp, line in held:
                writer.write(timestamp, line)
        if exit_info is not None:
            self.task.container_exited(self.name, exit_info)

    def exited(self, info: ExitInfo) -> None:
        with self._lock:
            if not self._attached:
                self._exit = info
                return
        self.task.container_exited(self.name, info)


def _check_request(req: RunTaskRequest, definition: TaskDefinition, overrides: TaskOverride) -> None:
    if not 1 <= req.count <= 10:
        raise InvalidParameter("Count must be between 1 and 10.")
    blob = json.dumps(encode(overrides), separators=(",", ":"))
    if len(blob) > MAX_OVERRIDE_CHARS:
        raise InvalidParameter(f"Container Overrides length must be at most {MAX_OVERRIDE_CHARS}")
    for override in overrides.container_overrides:
        if override.name is None or definition.container(override.name) is None:
            raise InvalidParameter(
                f"Override for container named {override.name} is not a container in the TaskDefinition."
            )
    fargate_awsvpc = (req.launch_type or "FARGATE") == "FARGATE" and definition.network_mode == "awsvpc"
    if fargate_awsvpc and not (req.network_configuration or {}).get("awsvpc_configuration"):
        raise InvalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.")


def _fingerprint(req: RunTaskRequest) -> str:
    overrides = encode(req.overrides or TaskOverride())
    return json.dumps([req.task_definition.rsplit("/", 1)[-1], req.count, overrides, req.started_by], sort_keys=True)


def _container(req: RunTaskRequest, cluster: str, task_id: str, task_arn: str, c: ContainerDefinition) -> Container:
    resource = f"container/{cluster}/{task_id}/{uuid.uuid4()}"
    return Container(
        container_arn=arns.build("ecs", req.region, req.account, resource),
        task_arn=task_arn,
        name=c.name,
        image=c.image,
        cpu=str(c.cpu) if c.cpu is not None else None,
        memory=str(c.memory) if c.memory is not None else None,
        memory_reservation=str(c.memory_reservation) if c.memory_reservation is not None else None,
    )


def _attachments(req: RunTaskRequest, definition: TaskDefinition) -> list[Attachment] | None:
    if definition.network_mode != "awsvpc":
        return None
    vpc = (req.network_configuration or {}).get("awsvpc_configuration") or {}
    subnets = vpc.get("subnets") or []
    details = [KeyValue("subnetId", subnets[0] if subnets else "subnet-local"),
               KeyValue("networkInterfaceId", f"eni-{uuid.uuid4().hex[:17]}"),
               KeyValue("privateIPv4Address", "127.0.0.1")]
    return [Attachment(id=str(uuid.uuid4()), details=details)]


def _container_cpu(task: Task, d: ContainerDefinition, override: Any) -> int | None:
    if override is not None and override.cpu is not None:
        return int(override.cpu)
    if d.cpu:
        return d.cpu
    return fargate.cpu_units(task.cpu)


def _container_memory(task: Task, d: ContainerDefinition, override: Any) -> int | None:
    if override is not None and override.memory is not None:
        return int(override.memory)
    return d.memory or fargate.memory_mib(task.memory)
