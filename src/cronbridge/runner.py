"""RunTask and StopTask: validate, record the task, start its containers through a launcher, follow its lifecycle."""

from __future__ import annotations

import collections
import copy
import dataclasses
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cronbridge import arn as arns
from cronbridge.authorizer import Authorizer
from cronbridge.awslogs import AwsLogsOptions, AwsLogsWriter
from cronbridge.clock import Clock
from cronbridge.codec import encode
from cronbridge.ecs import containers, dependencies, fargate
from cronbridge.ecs.service import STOPPED_TASK_TTL, EcsService
from cronbridge.errors import AwsError, ClientError, Conflict, InvalidParameter, LaunchError
from cronbridge.launchers.base import ContainerHandle, ContainerSpec, ExitInfo, Launcher, Network, Stream
from cronbridge.logs.service import LogService
from cronbridge.model.ecs import (
    Attachment,
    Container,
    ContainerDefinition,
    ContainerDependency,
    KeyValue,
    StopCode,
    Tag,
    Task,
    TaskDefinition,
    TaskOverride,
    TaskStatus,
)
from cronbridge.store.task_events import TaskEventLog
from cronbridge.store.task_writes import TaskWrites
from cronbridge.workers import Workers

log = logging.getLogger("cronbridge.runner")
MAX_OVERRIDE_CHARS = 8192
DEFAULT_STOP_TIMEOUT = 30.0
DEFAULT_START_TIMEOUT = 180.0  # a dependency's startTimeout when it has none (ECS's default on Fargate: 3 minutes)
CONTAINER_START_TIMEOUT = 60.0
_NO_DEF = ContainerDefinition()  # Fargate: "ContainerRuntimeTimeoutError: ... timed out after waiting 1m"
TASK_EVENT_TTL = 24 * 3600.0
BOOKKEEPING_AT_ONCE = 16
HOST_CPU_UNITS = (os.cpu_count() or 1) * 1024
HEALTH_PERIOD = 0.5  # seconds between looks at a running task's health checks
# Steps committed before the runner goes on: the first (RunTask's reply must not precede it), RUNNING (restart
# recovery needs the containers' runtime ids) and STOPPED (the outcome). The others are written behind (TaskWrites).
DURABLE = frozenset({TaskStatus.PROVISIONING, TaskStatus.RUNNING, TaskStatus.STOPPED})


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


TaskStart = tuple[Task, TaskDefinition]  # a recorded task whose containers are yet to start


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
        self.start_timeout = CONTAINER_START_TIMEOUT
        self.task_events = TaskEventLog(ecs.db)
        self.writes = TaskWrites(ecs.db, ecs.tasks, self.task_events)
        self.threads = Workers("task")  # one thread per live task, reused by the next task
        # tasks recording a lifecycle step or checking their start at once (CPU and database only: never held
        # while waiting for an image, a container or a dependency): a burst of a thousand tasks does not wake a
        # thousand threads that all contend for the interpreter (and starve the scheduler's own threads)
        self.bookkeeping = threading.BoundedSemaphore(BOOKKEEPING_AT_ONCE)

    # RunTask --------------------------------------------------------------
    def run_task(self, req: RunTaskRequest) -> RunTaskResult:
        result, starts = self.record_tasks(req)
        self.start_tasks(starts)
        return result

    def record_tasks(self, req: RunTaskRequest) -> tuple[RunTaskResult, list[TaskStart]]:
        """RunTask's durable half: validate, check the client token and record the new tasks in one transaction
        (a savepoint when the caller holds one: a batch of scheduled launches commits together). Their containers
        start with `start_tasks`, once the caller's transaction has committed."""
        cluster = self.ecs.cluster(req.cluster)
        definition = self.ecs.task_definition(req.task_definition)
        if definition.status != "ACTIVE":
            raise ClientError("TaskDefinition is inactive")
        overrides = req.overrides or TaskOverride()
        _check_request(req, definition, overrides)
        shortfall = _placement_failure(definition, overrides)
        if shortfall is not None:
            return RunTaskResult(tasks=[], failures=[Failure(cluster.cluster_arn, *shortfall)]), []
        with self.ecs.db.savepoint():  # the token check and the new tasks: atomic across threads and processes
            if req.client_token:
                previous = self._replay(req, cluster.cluster_arn)
                if previous is not None:
                    return previous, []
            tasks = [self._new_task(req, cluster.cluster_arn, definition, overrides) for _ in range(req.count)]
            for task in tasks:
                self.transition(task)
        return RunTaskResult(tasks=[dataclasses.replace(t) for t in tasks]), [(t, definition) for t in tasks]

    def start_tasks(self, starts: list[TaskStart]) -> None:
        """Start recorded tasks' containers, each task on a thread of its own."""
        for task, definition in starts:
            self._launch(task, definition)
        self._expire_old_tasks()

    def _expire_old_tasks(self) -> None:
        """Stopped tasks stay visible for an hour, as on ECS; swept at most once a minute."""
        now = self.clock.now()
        if now - self._last_sweep >= 60:
            self._last_sweep = now
            self.ecs.tasks.expire_stopped(now - STOPPED_TASK_TTL)
            self.task_events.expire(now - TASK_EVENT_TTL)

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
            assign_public_ip=_public_ip(req),
        )

    def _launch(self, task: Task, definition: TaskDefinition) -> None:
        live = LiveTask(self, task, definition)
        with self._lock:
            self._live[task.task_arn] = live
        self.threads.submit(task.task_id[:8], live.run)

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
        self.writes.close()

    def recover(self) -> None:
        """Tasks a previous server left unfinished: re-attached to their containers where the launcher can
        (Docker, by label and name), else stopped with a reason that says what became of them."""
        with self._lock:
            ours = set(self._live)
        for task in self.ecs.tasks.unfinished():
            if task.task_arn in ours:  # a task this process runs (another server on the database had the rest)
                continue
            definition = self._definition_of(task)
            if definition is not None and task.launcher == self.launcher.name and self._adopt(task, definition):
                continue
            self._abandon(task)

    def _definition_of(self, task: Task) -> TaskDefinition | None:
        try:
            return self.ecs.task_definition(task.task_definition_arn)
        except AwsError:
            return None

    def _adopt(self, task: Task, definition: TaskDefinition) -> bool:
        live = LiveTask(self, copy.deepcopy(task), definition)  # the original stays intact for _abandon
        if not live.adopt():
            return False
        with self._lock:
            self._live[task.task_arn] = live
        self.threads.submit(task.task_id[:8], live.run_adopted)
        return True

    def _abandon(self, task: Task) -> None:
        now = self.clock.now()
        fates = [
            self.launcher.abandon(task.task_id, c.name, c.runtime_id)
            for c in task.containers
            if c.last_status != "STOPPED" and c.runtime_id
        ]
        self.launcher.cleanup(task.task_id)  # what the containers shared (network namespace, task volumes)
        for attachment in task.attachments or []:
            attachment.status = "DELETED"
        task.last_status = TaskStatus.STOPPED
        task.desired_status = "STOPPED"
        task.stopped_at = task.execution_stopped_at = now
        task.stop_code = StopCode.TASK_FAILED_TO_START if task.started_at is None else StopCode.USER_INITIATED
        task.stopped_reason = (
            "Task stopped: the cronbridge server restarted while the task ran, and its "
            f"{task.launcher or 'process'} launcher could not re-attach to it"
            + (f" ({'; '.join(dict.fromkeys(fates))})" if fates else "")
        )
        for c in task.containers:
            if c.last_status != "STOPPED":
                c.last_status, c.reason = "STOPPED", "The cronbridge server restarted"
        self.transition(task)

    def forget(self, task_arn: str) -> None:
        with self._lock:
            self._live.pop(task_arn, None)

    def transition(self, task: Task, durable: bool = True) -> None:
        """Save the task and keep an "ECS Task State Change" record of it; durable: committed before this returns,
        else within a few milliseconds (and before anyone reads tasks)."""
        self.writes.write(task, self.clock.now(), durable)
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
        self.changed = threading.Event()  # a container exited, or a stop was asked for
        self.exit_infos: dict[str, ExitInfo] = {}
        self.done = threading.Event()
        self.stop_requested: tuple[str, StopCode] | None = None
        self.adopted = False

    @property
    def now(self) -> float:
        return self.runner.clock.now()

    def set_status(self, status: TaskStatus) -> None:
        with self.lock, self.runner.bookkeeping:
            self.task.last_status = status
            self.task.version += 1
            self.runner.transition(self.task, status in DURABLE)

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a bug of ours must still end the task visibly
            log.exception("task %s failed inside cronbridge", self.task.task_arn)
            self._stop_started()
            self._finish(StopCode.TASK_FAILED_TO_START, f"CannotStartContainerError: internal error: {exc}")
        finally:
            self.done.set()
            self.runner.forget(self.task.task_arn)

    def _run(self) -> None:
        self.set_status(TaskStatus.PENDING)
        self.set_status(TaskStatus.ACTIVATING)
        try:
            with self.runner.bookkeeping:
                if self.runner.authorizer is not None:  # IAM: the execution role must allow writing the logs
                    self.runner.authorizer.check_task_start(self.task, self.definition)
                self._prepare_logs()
            self._pull()
            self._attach_network()
            self._start_containers()
        except LaunchError as err:
            self._stop_started()
            self._finish(StopCode.TASK_FAILED_TO_START, str(err))
            return
        with self.lock:
            if self.stop_requested is None:
                self.task.started_at = self.now
                self.set_status(TaskStatus.RUNNING)
        self._wait_for_end()

    def adopt(self) -> bool:
        """Re-attach to a running task's containers after a restart; False when there is nothing to attach to."""
        if self.task.last_status not in (TaskStatus.RUNNING, TaskStatus.DEACTIVATING, TaskStatus.STOPPING):
            return False
        self.adopted = True
        attached = 0
        for definition in self.definition.container_definitions:
            container = self._container(definition.name)
            if container.last_status == "STOPPED":
                self.exit_infos[definition.name] = ExitInfo(exit_code=container.exit_code)
                self.exits[definition.name].set()
                continue
            attached += self._adopt_one(definition, container)
        return attached > 0

    def _adopt_one(self, definition: ContainerDefinition, container: Container) -> int:
        spec = self._spec(definition)
        resume = self._resume_point(definition, container.runtime_id or "")
        sink = Sink(self, definition.name, resume)
        handle = self.runner.launcher.adopt(spec, sink, resume.since if resume else None)
        if handle is None:
            container.last_status = "STOPPED"
            container.reason = "Docker did not recognize the container after a cronbridge restart"
            self.exit_infos[definition.name] = ExitInfo(exit_code=None)
            self.exits[definition.name].set()
            return 0
        with self.lock:
            self.handles[definition.name] = handle
        sink.attach(self._open_log(definition, handle.runtime_id))
        return 1

    def _resume_point(self, definition: ContainerDefinition, runtime_id: str) -> Resume | None:
        """Where a stream's stored events end, so following the container again adds no duplicate."""
        config = definition.log_configuration
        if config is None or config.log_driver != "awslogs":
            return None
        options = AwsLogsOptions.from_options(config.options)
        stream = options.stream_name(definition.name, self.task.task_id, runtime_id)
        try:
            events = self.runner.logs.get_events(options.group, stream, limit=1000).events
        except AwsError:
            return None
        if not events:
            return None
        last = max(e.timestamp for e in events)
        return Resume(last, collections.Counter(e.message for e in events if e.timestamp == last))

    def run_adopted(self) -> None:
        try:
            self._wait_for_end()
        except Exception as exc:
            log.exception("adopted task %s failed inside cronbridge", self.task.task_arn)
            self._finish(StopCode.USER_INITIATED, f"CannotInspectContainerError: internal error: {exc}")
        finally:
            self.done.set()
            self.runner.forget(self.task.task_arn)

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
                        f'(log group {options.group!r}; create it, or set awslogs-create-group to "true")',
                    )
                self._create_group(options.group)

    def _create_group(self, group: str) -> None:
        try:
            self.runner.logs.create_group(group)
        except AwsError as err:
            if err.code != "ResourceAlreadyExistsException":
                raise LaunchError("ResourceInitializationError", f"failed to create log group: {err.message}") from err

    def _pull(self) -> None:
        """ECS's pull step: every image must be ready (and every environment file readable) before any starts."""
        self.task.pull_started_at = self.now
        for definition in self.definition.container_definitions:
            self.runner.launcher.prepare(self._spec(definition))
        self.task.pull_stopped_at = self.now  # saved with the next transition

    def _attach_network(self) -> None:
        """awsvpc: the launcher sets up the task's network; the attachment says what it got."""
        attachment = next(iter(self.task.attachments or []), None)
        if attachment is None:
            return
        network = self.runner.launcher.network(self.task.task_id, self.task.task_arn, self.task.assign_public_ip)
        with self.lock:
            attachment.status = "ATTACHED"
            attachment.details = _network_details(attachment.details or [], network)

    def _start_containers(self) -> None:
        for definition in dependencies.start_order(self.definition.container_definitions):
            self._await_dependencies(definition)
            if self.stop_requested is not None:
                return
            self._start_one(definition)

    def _await_dependencies(self, definition: ContainerDefinition) -> None:
        """Wait until every dependsOn condition holds; ContainerRuntimeTimeoutError after the dependency's
        startTimeout, CannotStartContainerError when a condition can no longer hold."""
        for dep in definition.depends_on or []:
            target = self.definition.container(dep.container_name)
            timeout = float((target.start_timeout if target else None) or DEFAULT_START_TIMEOUT)
            deadline = time.monotonic() + timeout
            while self.stop_requested is None and not self._dependency_met(definition.name, dep):
                if time.monotonic() >= deadline:
                    raise LaunchError(
                        "ContainerRuntimeTimeoutError",
                        f"Could not transition to running; timed out after waiting {timeout:g}s: container "
                        f"'{definition.name}' waited for '{dep.container_name}' to be {dep.condition}",
                    )
                time.sleep(0.1)
                self._refresh_health()

    def _dependency_met(self, name: str, dep: ContainerDependency) -> bool:
        state = self._state(dep.container_name)
        verdict = dependencies.verdict(dep.condition, state)
        if verdict is dependencies.Verdict.NEVER:
            raise LaunchError("CannotStartContainerError", _never_met(name, dep, state))
        return verdict is dependencies.Verdict.MET

    def _state(self, name: str) -> dependencies.ContainerState:
        with self.lock:
            handle = self.handles.get(name)
            info = self.exit_infos.get(name)
            container = self._container(name)
        return dependencies.ContainerState(
            started=handle is not None,
            exited=self.exits[name].is_set(),
            exit_code=info.exit_code if info else None,
            health=container.health_status,
        )

    def _start_one(self, definition: ContainerDefinition) -> None:
        container = self._container(definition.name)
        spec = self._spec(definition)
        sink = Sink(self, definition.name)
        handle = self._start_with_timeout(spec, sink)
        with self.lock:
            self.handles[definition.name] = handle
            container.runtime_id = handle.runtime_id
            if container.last_status != "STOPPED":
                container.last_status = "RUNNING"
            container.limits_enforced = list(handle.limits.enforced)
        sink.attach(self._open_log(definition, handle.runtime_id))

    def _start_with_timeout(self, spec: ContainerSpec, sink: Sink) -> ContainerHandle:
        """launcher.start; for a launcher whose start can hang (an engine that stops answering), on a helper
        thread, so that a start that hangs becomes ContainerRuntimeTimeoutError."""
        if not getattr(self.runner.launcher, "start_can_hang", False):
            return self.runner.launcher.start(spec, sink)
        result: list[ContainerHandle | BaseException] = []
        done = threading.Event()

        def start() -> None:
            try:
                result.append(self.runner.launcher.start(spec, sink))
            except BaseException as exc:  # handed to the task thread
                result.append(exc)
            done.set()

        threading.Thread(target=start, daemon=True, name=f"start-{spec.name}").start()
        if not done.wait(self.runner.start_timeout):
            threading.Thread(target=_stop_when_started, args=(done, result), daemon=True).start()
            raise LaunchError(
                "ContainerRuntimeTimeoutError",
                f"Could not transition to running; timed out after waiting {self.runner.start_timeout:g}s",
            )
        outcome = result[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

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
        override = next((o for o in self.task.overrides.container_overrides if o.name == definition.name), None)
        command = override.command if override is not None and override.command is not None else definition.command
        return ContainerSpec(
            task_id=self.task.task_id,
            task_arn=self.task.task_arn,
            name=definition.name,
            image=definition.image,
            command=tuple(command) if command is not None else None,
            entry_point=tuple(definition.entry_point) if definition.entry_point else None,
            environment=tuple(self._environment(definition, override).items()),
            working_directory=definition.working_directory,
            user=definition.user,
            cpu=_container_cpu(self.task, definition, override),
            memory=_container_memory(self.task, definition, override),
            memory_reservation=(override.memory_reservation if override else None) or definition.memory_reservation,
            readonly_root_filesystem=bool(definition.readonly_root_filesystem),
            ulimits=containers.ulimits(definition),
            mounts=containers.mounts(self.task.task_id, self.definition, definition),
            network_mode=self.definition.network_mode or "awsvpc",
            labels=(("cronbridge.task-arn", self.task.task_arn),),
            health_check=containers.health_check(definition),
        )

    def _environment(self, definition: ContainerDefinition, override: Any) -> dict[str, str]:
        env = containers.environment(definition, override)
        if self.runner.authorizer is not None:  # the task role's credentials endpoint, as ECS serves it
            env.update(self.runner.authorizer.task_environment(self.task, self.definition))
        return env

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
            self.exit_infos[name] = info
            if info.oom:
                container.reason = "OutOfMemoryError: Container killed due to memory usage"
            elif info.reason:
                container.reason = info.reason
            self.runner.transition(self.task, durable=False)
        self.exits[name].set()
        self.changed.set()

    def _refresh_health(self) -> None:
        """Copy each container's health (and the task's) into the task; saved when it changes. The launcher is
        asked outside the lock (Docker answers through the engine)."""
        with self.lock:
            checked = [
                (n, h)
                for n, h in self.handles.items()
                if (self.definition.container(n) or _NO_DEF).health_check and not self.exits[n].is_set()
            ]
        if not checked:
            return
        statuses = {name: handle.health() for name, handle in checked}
        with self.lock:
            changed = False
            for name, status in statuses.items():
                container = self._container(name)
                if status != container.health_status and not self.exits[name].is_set():
                    container.health_status, changed = status, True
            health = _task_health(self.task, self.definition)
            if health != self.task.health_status:
                self.task.health_status, changed = health, True
            if changed:
                self.runner.transition(self.task, durable=False)

    def _wait_for_end(self) -> None:
        """Sleep until an essential container exits or a stop is asked for (no polling); containers with a health
        check are looked at every HEALTH_PERIOD seconds meanwhile."""
        essentials = [c.name for c in self.definition.container_definitions if c.essential is not False]
        checked = any(c.health_check for c in self.definition.container_definitions)
        while True:
            self.changed.clear()
            if self.stop_requested is not None or any(self.exits[name].is_set() for name in essentials):
                break
            if not self.changed.wait(HEALTH_PERIOD if checked else None) and checked:
                self._refresh_health()
        if self.stop_requested is not None:
            reason, code = self.stop_requested
        else:
            reason, code = "Essential container in task exited", StopCode.ESSENTIAL_CONTAINER_EXITED
        with self.lock:
            self.task.stopping_at = self.task.stopping_at or self.now
            self.task.desired_status = "STOPPED"
        self.set_status(TaskStatus.DEACTIVATING)
        self.set_status(TaskStatus.STOPPING)
        self._stop_started()
        self._finish(code, reason)

    def _stop_timeout(self, name: str) -> float:
        definition = self.definition.container(name)
        return float(definition.stop_timeout) if definition and definition.stop_timeout else DEFAULT_STOP_TIMEOUT

    def _stop_started(self) -> None:
        """`docker stop` each running container with its own stopTimeout, dependents before what they depend on
        (ECS reverses the start order at shutdown): in waves, each waited for."""
        while True:
            with self.lock:
                running = {n: h for n, h in self.handles.items() if not self.exits[n].is_set()}
            if not running:
                return
            needed = {
                d.container_name for n in running for d in (self.definition.container(n) or _NO_DEF).depends_on or []
            }
            wave = [(n, h) for n, h in running.items() if n not in needed] or list(running.items())
            for name, handle in wave:
                handle.stop(self._stop_timeout(name))
            for name, _handle in wave:
                if not self.exits[name].wait(self._stop_timeout(name) + 10):
                    return  # a container that will not stop must not hold the task forever

    def request_stop(self, reason: str, code: StopCode) -> Task:
        with self.lock:
            if self.stop_requested is None:
                self.stop_requested = (reason, code)
                self.task.desired_status = "STOPPED"
                self.task.stopping_at = self.now
                self.runner.transition(self.task)
                self.changed.set()
            return dataclasses.replace(self.task)

    def _finish(self, code: StopCode, reason: str) -> None:
        for writer in list(self.writers.values()):
            writer.close()
        self.runner.launcher.cleanup(self.task.task_id)
        with self.lock:
            for attachment in self.task.attachments or []:
                attachment.status = "DELETED"
            self.task.execution_stopped_at = self._execution_stopped_at()
            self.task.desired_status = "STOPPED"
            self.set_status(TaskStatus.DEPROVISIONING)
            self.task.stop_code = code
            self.task.stopped_reason = reason
            self.task.stopped_at = self.now
            for container in self.task.containers:
                if container.last_status != "STOPPED":
                    container.last_status = "STOPPED"
            self.set_status(TaskStatus.STOPPED)

    def _execution_stopped_at(self) -> float:
        """Now, or for an adopted task whose containers ended while nobody watched, when they really ended."""
        finished = [i.finished_at for i in self.exit_infos.values() if i.finished_at is not None]
        return max(finished) if self.adopted and finished else self.now


@dataclass(frozen=True)
class Resume:
    """The last stored event of a stream (ms) and the messages stored at that millisecond."""

    last_ms: int
    seen: collections.Counter[str]

    @property
    def since(self) -> float:
        return self.last_ms / 1000

    def fresh(self, timestamp: float, line: str) -> bool:
        """Whether a line read again from the start point is new (not yet stored)."""
        ms = int(timestamp * 1000)
        if ms > self.last_ms:
            return True
        if ms == self.last_ms and self.seen[line] > 0:
            self.seen[line] -= 1
            return False
        return ms == self.last_ms


def _stop_when_started(done: threading.Event, result: list[Any]) -> None:
    """A start that timed out may still succeed later: stop what it started."""
    done.wait()
    if result and not isinstance(result[0], BaseException):
        result[0].stop(0)


def _never_met(name: str, dep: ContainerDependency, state: dependencies.ContainerState) -> str:
    if dep.condition == "SUCCESS":
        why = f"exited with code {state.exit_code}"
    elif state.exited:
        why = "exited before it became HEALTHY"
    else:
        why = "is UNHEALTHY"
    return (
        f"dependency '{dep.container_name}' {why}, so the {dep.condition} condition of container '{name}' cannot be met"
    )


def _task_health(task: Task, definition: TaskDefinition) -> str:
    """ECS: UNHEALTHY if an essential container is, HEALTHY when every essential container with a check is."""
    checked = [
        c
        for c in task.containers
        if (d := definition.container(c.name)) is not None and d.health_check and d.essential is not False
    ]
    if not checked:
        return "UNKNOWN"
    if any(c.health_status == "UNHEALTHY" for c in checked):
        return "UNHEALTHY"
    return "HEALTHY" if all(c.health_status == "HEALTHY" for c in checked) else "UNKNOWN"


class Sink:
    """Where a launcher delivers one container's output and exit. Output that arrives before the log stream is
    open (a fast container can finish before `start` returns) is held and delivered once it opens."""

    def __init__(self, task: LiveTask, name: str, resume: Resume | None = None) -> None:
        self.task = task
        self.name = name
        self.resume = resume
        self._lock = threading.Lock()
        self._held: list[tuple[float, str]] = []
        self._writer: AwsLogsWriter | None = None
        self._attached = False
        self._exit: ExitInfo | None = None

    def log(self, stream: Stream, timestamp: float, line: str) -> None:
        with self._lock:
            if self.resume is not None and not self.resume.fresh(timestamp, line):
                return
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


def _placement_failure(definition: TaskDefinition, overrides: TaskOverride) -> tuple[str, str] | None:
    """ECS answers a task no capacity can hold with failures[] (RESOURCE:CPU / RESOURCE:MEMORY), not an error.
    Here the capacity is this machine's."""
    containers = definition.container_definitions
    cpu = fargate.cpu_units(overrides.cpu or definition.cpu) or sum(c.cpu or 0 for c in containers)
    memory = fargate.memory_mib(overrides.memory or definition.memory) or sum(
        c.memory or c.memory_reservation or 0 for c in containers
    )
    host_cpu = HOST_CPU_UNITS
    host_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    if cpu > host_cpu:
        return "RESOURCE:CPU", f"the task needs {cpu} CPU units; this machine has {host_cpu}"
    if memory > host_memory:
        return "RESOURCE:MEMORY", f"the task needs {memory} MiB; this machine has {host_memory} MiB"
    return None


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
    details = [KeyValue("subnetId", subnets[0] if subnets else "subnet-local")]
    return [Attachment(id=str(uuid.uuid4()), status="PRECREATED", details=details)]


def _public_ip(req: RunTaskRequest) -> bool:
    vpc = (req.network_configuration or {}).get("awsvpc_configuration") or {}
    return str(vpc.get("assign_public_ip") or "").upper() == "ENABLED"


def _network_details(details: list[KeyValue], network: Network) -> list[KeyValue]:
    """The subnet kept; the interface, MAC and address the launcher reported; how the task is networked."""
    kept = [d for d in details if d.name == "subnetId"]
    found = {
        "networkInterfaceId": network.interface_id or f"eni-{uuid.uuid4().hex[:17]}",
        "macAddress": network.mac,
        "privateIPv4Address": network.address,
        "cronbridge.networkNamespace": network.namespace,
        "cronbridge.outboundAccess": network.outbound,
    }
    return kept + [KeyValue(name, value) for name, value in found.items() if value]


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
