"""Tasks whose server process died (a crash, a restart, a worker that exited): taken over by one live process (the
scheduler lease holder, or the one a StopTask reached), then resumed (their launch was cut short), re-attached to
their containers where the launcher can, else stopped with a reason that says what became of them. A task of a live
process is that process's alone."""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING

from cronbridge.ecs.runtime.lifecycle import LiveTask
from cronbridge.model.ecs import StopCode, Task, TaskDefinition, TaskStatus

if TYPE_CHECKING:
    from cronbridge.ecs.runtime.runner import Runner


log = logging.getLogger("cronbridge.runtime")
LAUNCHING = (TaskStatus.PROVISIONING, TaskStatus.PENDING, TaskStatus.ACTIVATING)


def recover(runner: Runner) -> None:
    """Every unfinished task whose owner is dead, or that has none (written by a release before owners), is taken
    over; tasks owned by live processes (this one included) are left alone."""
    tasks = runner.ecs.tasks.unfinished()
    owners = runner.peers.owners.owners_of([t.task_arn for t in tasks])
    alive: dict[str, bool] = {}
    for task in tasks:
        owner = owners.get(task.task_arn)
        if owner is not None:
            if owner not in alive:
                alive[owner] = runner.peers.is_alive(owner)
            if alive[owner]:
                continue
        take_over(runner, task, owner)
    for dead in (o for o, live in alive.items() if not live):
        runner.peers.forget(dead)


def recover_dead_peers(runner: Runner) -> None:
    """The tasks of every process that died (known by its row or by the tasks it owns), then the process is
    forgotten."""
    for dead in runner.peers.dead():
        for arn in runner.peers.owners.owned_by(dead):
            task = runner.ecs.tasks.get(arn)
            if task is not None and task.last_status != TaskStatus.STOPPED:
                take_over(runner, task, dead)
        log.warning("server process %s is gone: its tasks were taken over by %s", dead, runner.peers.id)
        runner.peers.forget(dead)


def take_over(runner: Runner, task: Task, previous: str | None) -> LiveTask | None:
    """Own the task in place of its dead owner (unless another process was first), then adopt it (a LiveTask that
    follows it from now on), resume its launch, or settle it as abandoned (None)."""
    if not runner.peers.take_over(task.task_arn, previous):
        return None
    definition = _definition_of(runner, task)
    if definition is not None and task.launcher == runner.launcher.name:
        if task.last_status in LAUNCHING and task.desired_status != "STOPPED":
            return _resume(runner, task, definition)
        live = _adopt(runner, task, definition)
        if live is not None:
            return live
    _abandon(runner, task)
    return None


def _resume(runner: Runner, task: Task, definition: TaskDefinition) -> LiveTask:
    live = LiveTask(runner, task, definition)
    runner.follow(live, live.resume)
    return live


def _definition_of(runner: Runner, task: Task) -> TaskDefinition | None:
    return runner.ecs.task_definition_of_arn(task.task_definition_arn)


def _adopt(runner: Runner, task: Task, definition: TaskDefinition) -> LiveTask | None:
    live = LiveTask(runner, copy.deepcopy(task), definition)  # the original stays intact for _abandon
    if not live.adopt():
        return None
    runner.follow(live, live.run_adopted)
    return live


def _abandon(runner: Runner, task: Task) -> None:
    now = runner.clock.now()
    fates = [
        runner.launcher.abandon(task.task_id, c.name, c.runtime_id)
        for c in task.containers
        if c.last_status != "STOPPED" and c.runtime_id
    ]
    runner.launcher.cleanup(task.task_id)  # what the containers shared (network namespace, task volumes)
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
    runner.transition(task, durable=True).wait()
    runner.forget(task.task_arn)  # a stop that waited for it to be followed: it is stopped already
