"""A task's outcome for people, from its lifecycle record: starting, running, succeeded, failed (which container,
exit code, stop code) or failed to start (why). Pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cronbridge.model.ecs import StopCode, Task, TaskStatus

SHORT = 80  # characters of a reason shown before "more"


class Outcome(enum.StrEnum):
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    FAILED_TO_START = "FAILED_TO_START"
    UNKNOWN = "UNKNOWN"  # the task's record is gone (older than the retention)


@dataclass(frozen=True)
class TaskOutcome:
    """What became of one task; `exit_code` and `container` name the first container that did not exit 0."""

    state: Outcome
    exit_code: int | None = None
    container: str | None = None
    stop_code: str | None = None
    reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.state in (Outcome.FAILED, Outcome.FAILED_TO_START)

    def words(self) -> str:
        """`SUCCEEDED`, `FAILED (exit 3)`, `FAILED_TO_START`, `RUNNING`."""
        if self.state is Outcome.FAILED and self.exit_code is not None:
            return f"FAILED (exit {self.exit_code})"
        return self.state.value

    def to_json(self) -> dict[str, object]:
        return {"state": self.state.value, "exitCode": self.exit_code, "container": self.container,
                "stopCode": self.stop_code, "reason": self.reason}


def task_outcome(task: Task) -> TaskOutcome:
    if task.last_status is not TaskStatus.STOPPED:
        return TaskOutcome(Outcome.RUNNING if task.started_at is not None else Outcome.STARTING)
    stop = task.stop_code.value if task.stop_code else None
    if task.stop_code is StopCode.TASK_FAILED_TO_START or task.started_at is None:
        reasons = [c.reason for c in task.containers if c.reason]
        return TaskOutcome(Outcome.FAILED_TO_START, stop_code=stop, reason=task.stopped_reason or "; ".join(reasons))
    for container in task.containers:
        if container.exit_code != 0:
            return TaskOutcome(Outcome.FAILED, container.exit_code, container.name, stop,
                               container.reason or task.stopped_reason)
    return TaskOutcome(Outcome.SUCCEEDED, 0 if task.containers else None, stop_code=stop, reason=task.stopped_reason)


def short(text: str | None, limit: int = SHORT) -> str:
    """A reason cut to one line for a table (the whole of it is shown on demand)."""
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


_WORST_FIRST = (Outcome.FAILED_TO_START, Outcome.FAILED, Outcome.UNKNOWN, Outcome.STARTING, Outcome.RUNNING,
                Outcome.SUCCEEDED)


def combine(outcomes: list[TaskOutcome]) -> TaskOutcome | None:
    """One outcome for an invocation's tasks: the worst of them (a failure names its exit code); None: no task."""
    if not outcomes:
        return None
    return min(outcomes, key=lambda o: _WORST_FIRST.index(o.state))


def run_result(invocation_state: str, tasks: TaskOutcome | None) -> str:
    """An invocation as people ask about it: did the job work? The invocation's own state unless it launched its
    tasks (SUCCEEDED), then its tasks' outcome: `SUCCEEDED`, `FAILED (exit 3)`, `FAILED_TO_START`, `RUNNING`."""
    if invocation_state != "SUCCEEDED" or tasks is None:
        return invocation_state
    return tasks.words()
