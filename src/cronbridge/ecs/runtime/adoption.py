"""After a server restart: re-attach a live task to its containers, resuming each log stream where it ended."""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

from cronbridge.ecs.runtime.awslogs import AwsLogsOptions
from cronbridge.ecs.runtime.sinks import Resume, Sink
from cronbridge.errors import AwsError
from cronbridge.launchers.base import ExitInfo
from cronbridge.model.ecs import Container, ContainerDefinition, TaskStatus

if TYPE_CHECKING:
    from cronbridge.ecs.runtime.lifecycle import LiveTask

ADOPTABLE = (TaskStatus.RUNNING, TaskStatus.DEACTIVATING, TaskStatus.STOPPING)


def adopt(live: LiveTask) -> bool:
    """Follow the task's containers again; False when there is nothing to attach to."""
    if live.task.last_status not in ADOPTABLE:
        return False
    live.adopted = True
    followed = 0  # containers attached again, or whose end was already recorded (their output with it)
    for definition in live.definition.container_definitions:
        container = live.container(definition.name)
        if container.last_status == "STOPPED":
            live.exit_infos[definition.name] = ExitInfo(exit_code=container.exit_code)
            live.exits[definition.name].set()
            followed += 1
            continue
        followed += _adopt_one(live, definition, container)
    return followed > 0


def _adopt_one(live: LiveTask, definition: ContainerDefinition, container: Container) -> int:
    spec = live.spec(definition)
    resume = resume_point(live, definition, container.runtime_id or "")
    sink = Sink(definition.name, live.container_exited, resume)
    handle = live.runner.launcher.adopt(spec, sink, resume.since if resume else None)
    if handle is None:
        container.last_status = "STOPPED"
        container.reason = "Docker did not recognize the container after a cronbridge restart"
        live.exit_infos[definition.name] = ExitInfo(exit_code=None)
        live.exits[definition.name].set()
        return 0
    with live.lock:
        live.handles[definition.name] = handle
    sink.attach(live.open_log(definition, handle.runtime_id))
    return 1


def resume_point(live: LiveTask, definition: ContainerDefinition, runtime_id: str) -> Resume | None:
    """Where a stream's stored events end, so following the container again adds no duplicate."""
    config = definition.log_configuration
    if config is None or config.log_driver != "awslogs":
        return None
    options = AwsLogsOptions.from_options(config.options)
    stream = options.stream_name(definition.name, live.task.task_id, runtime_id)
    try:
        events = live.runner.logs_of(live.task, options).get_events(options.group, stream, limit=1000).events
    except AwsError:
        return None
    if not events:
        return None
    last = max(e.timestamp for e in events)
    return Resume(last, collections.Counter(e.message for e in events if e.timestamp == last))
