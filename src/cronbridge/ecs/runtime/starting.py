"""Starting a task as ECS does: its log groups, the pull step, the network, then each container in dependsOn order."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from cronbridge.ecs import dependencies
from cronbridge.ecs.runtime import adoption
from cronbridge.ecs.runtime.awslogs import AwsLogsOptions
from cronbridge.ecs.runtime.health import refresh_health
from cronbridge.ecs.runtime.sinks import Sink
from cronbridge.ecs.runtime.spec import network_details
from cronbridge.errors import AwsError, LaunchError
from cronbridge.launchers.base import ContainerHandle, ContainerSpec
from cronbridge.model.ecs import ContainerDefinition, ContainerDependency

if TYPE_CHECKING:
    from cronbridge.ecs.runtime.lifecycle import LiveTask
    from cronbridge.logs.service import LogService

DEFAULT_START_TIMEOUT = 180.0  # a dependency's startTimeout when it has none (ECS's default on Fargate: 3 minutes)
DEPENDENCY_POLL = 0.1


class Starter:
    """Brings one task's containers up; raises LaunchError (ECS's error prefixes) when the task cannot start."""

    def __init__(self, live: LiveTask) -> None:
        self.live = live
        self.runner = live.runner

    def start(self) -> None:
        with self.runner.bookkeeping:
            self.runner.authorizer.check_task_start(self.live.task, self.live.definition)  # logs permissions
            self._prepare_logs()
        self._pull()
        self._attach_network()
        self._start_containers()

    def _prepare_logs(self) -> None:
        for c in self.live.definition.container_definitions:
            config = c.log_configuration
            if config is None or config.log_driver != "awslogs":
                continue
            options = AwsLogsOptions.from_options(config.options)
            logs = self.runner.logs_of(self.live.task, options)
            if not logs.group_exists(options.group):
                if not options.create_group:
                    raise LaunchError(
                        "ResourceInitializationError",
                        "failed to validate logger args: create stream has been retried 1 times: failed to create "
                        "Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. "
                        f'(log group {options.group!r}; create it, or set awslogs-create-group to "true")',
                    )
                self._create_group(logs, options.group)

    def _create_group(self, logs: LogService, group: str) -> None:
        try:
            logs.create_group(group)
        except AwsError as err:
            if err.code != "ResourceAlreadyExistsException":
                raise LaunchError("ResourceInitializationError", f"failed to create log group: {err.message}") from err

    def _pull(self) -> None:
        """ECS's pull step: every image must be ready (and every environment file readable) before any starts."""
        task = self.live.task
        task.pull_started_at = self.live.now
        for definition in self.live.definition.container_definitions:
            self.runner.launcher.prepare(self.live.spec(definition))
        task.pull_stopped_at = self.live.now  # saved with the next transition

    def _attach_network(self) -> None:
        """awsvpc: the launcher sets up the task's network; the attachment says what it got."""
        task = self.live.task
        attachment = next(iter(task.attachments or []), None)
        if attachment is None:
            return
        network = self.runner.launcher.network(task.task_id, task.task_arn, task.assign_public_ip)
        with self.live.lock:
            attachment.status = "ATTACHED"
            attachment.details = network_details(attachment.details or [], network)

    def _start_containers(self) -> None:
        for definition in dependencies.start_order(self.live.definition.container_definitions):
            self._await_dependencies(definition)
            if self.live.stop_requested is not None:
                return
            self._start_one(definition)

    def _await_dependencies(self, definition: ContainerDefinition) -> None:
        """Wait until every dependsOn condition holds; ContainerRuntimeTimeoutError after the dependency's
        startTimeout, CannotStartContainerError when a condition can no longer hold."""
        for dep in definition.depends_on or []:
            target = self.live.definition.container(dep.container_name)
            timeout = float((target.start_timeout if target else None) or DEFAULT_START_TIMEOUT)
            deadline = time.monotonic() + timeout
            while self.live.stop_requested is None and not self._dependency_met(definition.name, dep):
                if time.monotonic() >= deadline:
                    raise LaunchError(
                        "ContainerRuntimeTimeoutError",
                        f"Could not transition to running; timed out after waiting {timeout:g}s: container "
                        f"'{definition.name}' waited for '{dep.container_name}' to be {dep.condition}",
                    )
                time.sleep(DEPENDENCY_POLL)
                refresh_health(self.live)

    def _dependency_met(self, name: str, dep: ContainerDependency) -> bool:
        state = self.live.state(dep.container_name)
        verdict = dependencies.verdict(dep.condition, state)
        if verdict is dependencies.Verdict.NEVER:
            raise LaunchError("CannotStartContainerError", _never_met(name, dep, state))
        return verdict is dependencies.Verdict.MET

    def _start_one(self, definition: ContainerDefinition) -> None:
        live = self.live
        container = live.container(definition.name)
        resume = adoption.resume_point(live, definition, container.runtime_id or "") if live.resuming else None
        sink = Sink(definition.name, live.container_exited, resume)
        handle = self._start_with_timeout(live.spec(definition), sink)
        with live.lock:
            live.handles[definition.name] = handle
            container.runtime_id = handle.runtime_id
            if container.last_status != "STOPPED":
                container.last_status = "RUNNING"
            container.limits_enforced = list(handle.limits.enforced)
            container.node = handle.node
        sink.attach(live.open_log(definition, handle.runtime_id))

    def _start_with_timeout(self, spec: ContainerSpec, sink: Sink) -> ContainerHandle:
        """launcher.start; for a launcher whose start can hang (an engine that stops answering), on a helper
        thread, so that a start that hangs becomes ContainerRuntimeTimeoutError."""
        launcher = self.runner.launcher
        if not launcher.start_can_hang:
            return launcher.start(spec, sink)
        result: list[ContainerHandle | BaseException] = []
        done = threading.Event()

        def start() -> None:
            try:
                result.append(launcher.start(spec, sink))
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
