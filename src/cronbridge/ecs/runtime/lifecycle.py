"""One live task: its lifecycle from PENDING to STOPPED, each step recorded in order. The launch and the end run on
the runner's pooled threads; while the task runs no thread waits for it (the exit or stop that ends it hands the end
to the pool), except for tasks with health checks, whose thread looks at them. A step is queued for the database
under the task's lock and waited for outside it: no thread waits for the disk while holding a lock that a stop, an
exit or a reset needs."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from cronbridge.ecs import dependencies
from cronbridge.ecs.runtime import adoption
from cronbridge.ecs.runtime.awslogs import AwsLogsOptions, AwsLogsWriter
from cronbridge.ecs.runtime.health import HEALTH_PERIOD, refresh_health
from cronbridge.ecs.runtime.spec import DEFAULT_STOP_TIMEOUT, container_spec
from cronbridge.ecs.runtime.starting import Starter
from cronbridge.errors import LaunchError
from cronbridge.launchers.base import ContainerHandle, ContainerSpec, ExitInfo
from cronbridge.model.ecs import Container, ContainerDefinition, StopCode, Tag, Task, TaskDefinition, TaskStatus
from cronbridge.store.task_writes import DONE, Pending

if TYPE_CHECKING:
    from cronbridge.ecs.runtime.runner import Runner

log = logging.getLogger("cronbridge.runtime")
# Steps committed before the task goes on: the first (RunTask's reply must not precede it), RUNNING (restart
# recovery needs the containers' runtime ids) and STOPPED (the outcome). The others are written behind (TaskWrites).
DURABLE = frozenset({TaskStatus.PROVISIONING, TaskStatus.RUNNING, TaskStatus.STOPPED})
_NO_DEF = ContainerDefinition()
_ORDER = list(TaskStatus)


class LiveTask:
    """One running task: its launch, its wait for the end (armed, not slept through) and its end."""

    def __init__(self, runner: Runner, task: Task, definition: TaskDefinition) -> None:
        self.runner = runner
        self.task = task
        self.definition = definition
        self.lock = threading.RLock()  # the task's state; never held while waiting for the database
        self.handles: dict[str, ContainerHandle] = {}
        self.writers: dict[str, AwsLogsWriter] = {}
        self.exits: dict[str, threading.Event] = {c.name: threading.Event() for c in task.containers}
        self.changed = threading.Event()  # a container exited, or a stop was asked for
        self.exit_infos: dict[str, ExitInfo] = {}
        self.done = threading.Event()
        self.stop_requested: tuple[str, StopCode] | None = None
        self.adopted = False
        self.resuming = False  # a launch a previous server began: output already stored is not stored again
        self.essentials = [c.name for c in definition.container_definitions if c.essential is not False]
        self.health_checked = any(c.health_check for c in definition.container_definitions)
        self._armed = False  # running, no thread waiting: the exit or stop that ends it submits the end
        # how a failure of ours ends the task: its stop code, the reason's prefix, whether containers are stopped first
        self._failure = (StopCode.TASK_FAILED_TO_START, "CannotStartContainerError", True)

    @property
    def now(self) -> float:
        return self.runner.clock.now()

    # recording -----------------------------------------------------------
    def record(self, durable: bool) -> Pending:
        """Queue the task's current state (the caller holds the task's lock, so steps queue in order)."""
        with self.lock:
            return self.runner.transition(self.task, durable)

    def advance(self, status: TaskStatus) -> Pending:
        """Move to `status` and queue the step; the caller waits for the returned step outside the lock."""
        with self.lock:
            self.task.last_status = status
            self.task.version += 1
            return self.record(status in DURABLE)

    def set_status(self, status: TaskStatus) -> None:
        with self.runner.bookkeeping:
            pending = self.advance(status)
        pending.wait()

    # the lifecycle -------------------------------------------------------
    def run(self) -> None:
        self._guarded(self._launch)

    def _guarded(self, part: Callable[[], bool]) -> None:
        """Run a part of the lifecycle; the task is forgotten once it has ended (a part that armed the wait for the
        end returns False). A bug of ours still ends the task visibly."""
        ended = True
        try:
            ended = part()
        except Exception as exc:
            code, prefix, stop_first = self._failure
            log.exception("task %s failed inside cronbridge", self.task.task_arn)
            if stop_first:
                self._stop_started()
            self._finish(code, f"{prefix}: internal error: {exc}")
        finally:
            if ended:
                self.done.set()
                self.runner.forget(self.task.task_arn)

    def _launch(self) -> bool:
        for status in (TaskStatus.PENDING, TaskStatus.ACTIVATING):
            if _ORDER.index(self.task.last_status) < _ORDER.index(status):  # a resumed launch does not go back
                self.set_status(status)
        try:
            Starter(self).start()
        except LaunchError as err:
            self._stop_started()
            self._finish(StopCode.TASK_FAILED_TO_START, str(err))
            return True
        pending = None
        with self.lock:
            if self.stop_requested is None:
                self.task.started_at = self.now
                pending = self.advance(TaskStatus.RUNNING)
        if pending is not None:
            pending.wait()
        return self._await_end()

    def resume(self) -> None:
        """After a restart: finish the launch a previous server began (PROVISIONING to ACTIVATING). The launcher
        finds what it had already made of each container (created: started now; running or already ended:
        followed, with its real exit code) and starts what it had not, so the slot's run happens exactly once."""
        self.resuming = True
        self.run()

    def adopt(self) -> bool:
        """Re-attach to a running task's containers after a restart; False when there is nothing to attach to."""
        return adoption.adopt(self)

    def run_adopted(self) -> None:
        self._failure = (StopCode.USER_INITIATED, "CannotInspectContainerError", False)
        self._guarded(self._await_end)

    # containers ----------------------------------------------------------
    def spec(self, definition: ContainerDefinition) -> ContainerSpec:
        role_environment = self.runner.authorizer.task_environment(self.task, self.definition)
        return container_spec(self.task, self.definition, definition, role_environment)

    def container(self, name: str) -> Container:
        return next(c for c in self.task.containers if c.name == name)

    def open_log(self, definition: ContainerDefinition, runtime_id: str) -> AwsLogsWriter | None:
        config = definition.log_configuration
        if config is None or config.log_driver != "awslogs":
            return None
        options = AwsLogsOptions.from_options(config.options)
        stream = options.stream_name(definition.name, self.task.task_id, runtime_id)
        logs = self.runner.logs_of(self.task, options)
        logs.ensure_stream(options.group, stream)
        writer = AwsLogsWriter(logs.append, options.group, stream)
        with self.lock:
            self.writers[definition.name] = writer
        return writer

    def state(self, name: str) -> dependencies.ContainerState:
        with self.lock:
            handle = self.handles.get(name)
            info = self.exit_infos.get(name)
            container = self.container(name)
        return dependencies.ContainerState(
            started=handle is not None,
            exited=self.exits[name].is_set(),
            exit_code=info.exit_code if info else None,
            health=container.health_status,
        )

    def container_exited(self, name: str, info: ExitInfo) -> None:
        writer = self.writers.get(name)
        if writer is not None:
            writer.close()
        loss = writer.loss() if writer is not None else None
        with self.lock:
            container = self.container(name)
            container.last_status = "STOPPED"
            container.exit_code = info.exit_code
            self.exit_infos[name] = info
            reasons = ["OutOfMemoryError: Container killed due to memory usage" if info.oom else info.reason, loss]
            if any(reasons):
                container.reason = "; ".join(r for r in reasons if r)  # every loss is said where users look
            self.record(durable=False)
        self.exits[name].set()
        self._poke()

    # running and stopping ------------------------------------------------
    def _end_due(self) -> bool:
        return self.stop_requested is not None or any(self.exits[name].is_set() for name in self.essentials)

    def _await_end(self) -> bool:
        """End the task now if its end has come; else arm: the essential container's exit or the stop that ends it
        hands the end to a pooled thread, and this thread goes back to the pool (False). A task with health checks
        keeps its thread, which looks at them every HEALTH_PERIOD seconds until the end."""
        if self.health_checked:
            while True:
                self.changed.clear()
                if self._end_due():
                    break
                if not self.changed.wait(HEALTH_PERIOD):
                    refresh_health(self)
            return self._end()
        with self.lock:
            if not self._end_due():
                self._armed = True
                return False
        return self._end()

    def _poke(self) -> None:
        """A container exited or a stop was asked for: an armed task whose end has come is ended on a pooled thread."""
        self.changed.set()
        with self.lock:
            if not self._armed or not self._end_due():
                return
            self._armed = False
        self.runner.threads.submit(self.task.task_id[:8], lambda: self._guarded(self._end))

    def _end(self) -> bool:
        """Stop what still runs and record the end: the stop asked for, or the essential container's exit."""
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
        return True

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

    def set_tags(self, tags: list[Tag]) -> None:
        """TagResource / UntagResource: the task's tags replaced, recorded as a step of its own."""
        with self.lock:
            self.task.tags = tags or None
            pending = self.record(durable=True)
        pending.wait()

    def request_stop(self, reason: str, code: StopCode) -> Task:
        """StopTask (or a reset): the task's end stops the containers (on a pooled thread); returns the task as it
        stands now, once the stop is on disk."""
        pending, task = self.ask_stop(reason, code)
        pending.wait()
        return task

    def ask_stop(self, reason: str, code: StopCode) -> tuple[Pending, Task]:
        """The stop asked for and queued for the disk; the caller waits for the returned step (a reset asks every
        task first, then waits for all of them: one commit, not one per task)."""
        pending = DONE
        with self.lock:
            if self.stop_requested is None:
                self.stop_requested = (reason, code)
                self.task.desired_status = "STOPPED"
                self.task.stopping_at = self.now
                pending = self.record(durable=True)
            task = dataclasses.replace(self.task)
        if pending is not DONE:
            self._poke()
        return pending, task

    def _finish(self, code: StopCode, reason: str) -> None:
        for writer in list(self.writers.values()):
            writer.close()
        if self.runner.launcher.outlives_server:  # the containers' exits on disk before the containers go
            self.record(durable=True).wait()
        self.runner.launcher.cleanup(self.task.task_id)
        with self.lock:
            for attachment in self.task.attachments or []:
                attachment.status = "DELETED"
            self.task.execution_stopped_at = self._execution_stopped_at()
            self.task.desired_status = "STOPPED"
            self.advance(TaskStatus.DEPROVISIONING)
            self.task.stop_code = code
            self.task.stopped_reason = reason
            self.task.stopped_at = self.now
            for container in self.task.containers:
                if container.last_status != "STOPPED":
                    container.last_status = "STOPPED"
            pending = self.advance(TaskStatus.STOPPED)
        pending.wait()

    def _execution_stopped_at(self) -> float:
        """Now, or for an adopted (or resumed) task whose containers ended while nobody watched, when they ended."""
        finished = [i.finished_at for i in self.exit_infos.values() if i.finished_at is not None]
        return max(finished) if (self.adopted or self.resuming) and finished else self.now
