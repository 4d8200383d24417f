"""Health checks of a running task: each container's status copied into the task, and the task's own health."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cronbridge.model.ecs import ContainerDefinition, Task, TaskDefinition

if TYPE_CHECKING:
    from cronbridge.ecs.runtime.lifecycle import LiveTask

HEALTH_PERIOD = 0.5  # seconds between looks at a running task's health checks
_NO_DEF = ContainerDefinition()


def refresh_health(live: LiveTask) -> None:
    """Copy each container's health (and the task's) into the task; saved when it changes. The launcher is asked
    outside the task's lock (Docker answers through the engine)."""
    with live.lock:
        checked = [
            (n, h)
            for n, h in live.handles.items()
            if (live.definition.container(n) or _NO_DEF).health_check and not live.exits[n].is_set()
        ]
    if not checked:
        return
    statuses = {name: handle.health() for name, handle in checked}
    with live.lock:
        changed = False
        for name, status in statuses.items():
            container = live.container(name)
            if status != container.health_status and not live.exits[name].is_set():
                container.health_status, changed = status, True
        health = task_health(live.task, live.definition)
        if health != live.task.health_status:
            live.task.health_status, changed = health, True
        if changed:
            live.record(durable=False)


def task_health(task: Task, definition: TaskDefinition) -> str:
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
