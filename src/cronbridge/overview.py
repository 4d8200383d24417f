"""What people look at: rules and schedules with next fire times and last outcome, tasks with their logs."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cronbridge.ecs.outcome import Outcome, TaskOutcome, combine, run_result, task_outcome
from cronbridge.ecs.runtime.awslogs import AwsLogsOptions
from cronbridge.errors import AwsError
from cronbridge.model.ecs import Task, TaskDefinition
from cronbridge.model.events import Rule, Target
from cronbridge.model.scheduler import Schedule
from cronbridge.schedule import parse
from cronbridge.scheduler.engine import next_fire
from cronbridge.scheduler.sources import Plan
from cronbridge.schedules.service import SCHEDULE
from cronbridge.schedules.source import ScheduleSource
from cronbridge.scope import Scope
from cronbridge.store.invocations import Invocation
from cronbridge.store.task_outcomes import TaskOutcomes
from cronbridge.store.views import Views

if TYPE_CHECKING:
    from cronbridge.system import System

PAGE = 50
log = logging.getLogger("cronbridge.overview")


def iso(instant: float | None) -> str | None:
    """An instant as ISO 8601 UTC with milliseconds and a Z, as our endpoints print it."""
    if instant is None:
        return None
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Summary:
    """A rule or schedule in one row: when it fires, in words and instants, and how its last run went."""

    kind: str  # "rule" | "schedule"
    name: str
    arn: str
    expression: str | None
    description: str | None
    timezone: str
    state: str
    next_times: list[float] = field(default_factory=list)
    last: Invocation | None = None
    group: str | None = None
    last_tasks: TaskOutcome | None = None  # what became of the last invocation's tasks

    def to_json(self) -> dict[str, Any]:
        last = self.last
        return {
            "kind": self.kind,
            "name": self.name,
            "arn": self.arn,
            "group": self.group,
            "expression": self.expression,
            "description": self.description,
            "timezone": self.timezone,
            "state": self.state,
            "nextFireTimes": [iso(t) for t in self.next_times],
            "lastOutcome": None if last is None else last.state,
            "lastTaskOutcome": None if self.last_tasks is None else self.last_tasks.to_json(),
            "lastResult": None if last is None else run_result(last.state, self.last_tasks),
            "lastScheduledTime": None if last is None else iso(last.scheduled_at),
        }


def describe_expression(expression: str | None) -> str | None:
    if not expression:
        return None
    try:
        return parse(expression, allow_at=True).describe()
    except AwsError:
        return None


def rule_next_times(rule: Rule, now: float, count: int) -> list[float]:
    times: list[float] = []
    cursor = now
    while len(times) < count and rule.schedule_expression and rule.state == "ENABLED":
        following = next_fire(rule, cursor)
        if following is None:
            break
        times.append(following)
        cursor = following
    return times


def task_outcomes(system: System, arns: list[str]) -> dict[str, TaskOutcome]:
    """What became of each task: its recorded outcome once stopped, else its state now (UNKNOWN when its record is
    gone)."""
    stopped = {arn: s.outcome for arn, s in TaskOutcomes(system.db).get_many(arns).items()}
    rest = [arn for arn in arns if arn not in stopped]
    live = {t.task_arn: task_outcome(t) for t in system.ecs.tasks.get_many(rest)} if rest else {}
    return {arn: stopped.get(arn) or live.get(arn) or TaskOutcome(Outcome.UNKNOWN) for arn in arns}


def invocation_tasks(system: System, invocations: list[Invocation]) -> dict[int, TaskOutcome | None]:
    """Each invocation's tasks' combined outcome (None for one that launched none)."""
    found = task_outcomes(system, [arn for inv in invocations for arn in inv.task_arns])
    return {inv.id: combine([found[arn] for arn in inv.task_arns]) for inv in invocations}


def _last_tasks(system: System, last: Invocation | None) -> TaskOutcome | None:
    return None if last is None else invocation_tasks(system, [last])[last.id]


def with_last_tasks(system: System, summaries: list[Summary]) -> list[Summary]:
    """Fill in what became of each summary's last invocation's tasks, in one lookup for the page."""
    lasts = [s.last for s in summaries if s.last is not None]
    found = invocation_tasks(system, lasts) if lasts else {}
    for summary in summaries:
        summary.last_tasks = None if summary.last is None else found.get(summary.last.id)
    return summaries


def summarize_rule(system: System, rule: Rule, count: int = 10, tasks: bool = True) -> Summary:
    last = Views(system.db).last_invocation(rule.arn)
    return Summary(
        kind="rule",
        name=rule.name,
        arn=rule.arn,
        expression=rule.schedule_expression,
        description=describe_expression(rule.schedule_expression) or rule.description,
        timezone="UTC",
        state=rule.state,
        next_times=rule_next_times(rule, system.clock.now(), count),
        last=last,
        last_tasks=_last_tasks(system, last) if tasks else None,
    )


def rules_page(
    system: System, scope: Scope, prefix: str = "", after: str = "", limit: int = PAGE, count: int = 10
) -> tuple[list[Summary], str | None]:
    """A page of rules in name order with their next `count` fire times; the name to continue after."""
    found = system.events.list_rules(scope, prefix=prefix, after=after, limit=limit + 1)
    page = found[:limit]
    following = page[-1].name if len(found) > limit else None
    return with_last_tasks(system, [summarize_rule(system, r, count, tasks=False) for r in page]), following


# EventBridge Scheduler: `system.schedules` (its plans give the next slots) ------------------------------------


def schedules_page(
    system: System, scope: Scope, after: str = "", limit: int = PAGE, count: int = 10
) -> tuple[list[Summary], str | None]:
    """A page of EventBridge Scheduler schedules in GROUP/NAME order."""
    found = system.docs.list(SCHEDULE, Schedule, scope, after=after, limit=limit + 1)
    page = found[:limit]
    following = page[-1].key if len(found) > limit else None
    return with_last_tasks(system, [summarize_schedule(system, x, count, tasks=False) for x in page]), following


def find_schedule(system: System, scope: Scope, group: str, name: str) -> Schedule | None:
    try:
        return system.schedules.get(scope, group, name)
    except AwsError:
        return None


def schedule_plan(system: System, schedule: Schedule) -> Plan:
    """The scheduler's plan of a schedule (its slots in its zone, its target as the engine launches it)."""
    return ScheduleSource(system.schedules).plan_of(schedule)


def schedule_next_times(system: System, schedule: Schedule, count: int) -> list[float]:
    if schedule.state != "ENABLED":
        return []
    plan = schedule_plan(system, schedule)
    times: list[float] = []
    cursor = max(system.clock.now(), plan.not_before)
    while len(times) < count:
        slot = plan.next_slot(cursor)
        if slot is None:
            break
        times.append(slot)
        cursor = slot
    return times


def summarize_schedule(system: System, schedule: Schedule, count: int = 10, tasks: bool = True) -> Summary:
    expression = schedule.schedule_expression
    last = Views(system.db).last_invocation(schedule.arn)
    return Summary(
        kind="schedule",
        name=schedule.name,
        arn=schedule.arn,
        expression=expression,
        description=describe_expression(expression),
        timezone=schedule.schedule_expression_timezone or "UTC",
        state=schedule.state,
        next_times=schedule_next_times(system, schedule, count),
        last=last,
        group=schedule.group_name,
        last_tasks=_last_tasks(system, last) if tasks else None,
    )


# one rule -------------------------------------------------------------------------------------------


@dataclass
class ResolvedTarget:
    """A rule's target with what it points at, resolved now."""

    target: Target
    task_definition: TaskDefinition | None
    problem: str | None
    input_pretty: str | None


def resolve_targets(system: System, scope: Scope, rule_name: str, bus: str = "default") -> list[ResolvedTarget]:
    resolved = []
    for target in system.events.targets(scope, rule_name, bus):
        definition, problem = None, None
        if target.ecs_parameters is not None:
            try:
                definition = system.ecs.task_definition(scope, target.ecs_parameters.task_definition_arn)
            except AwsError as err:
                problem = err.message
        resolved.append(ResolvedTarget(target, definition, problem, pretty_json(target.input)))
    return resolved


def pretty_json(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=False)
    except ValueError:
        return text


# tasks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLink:
    container: str
    group: str
    stream: str


def task_log_links(system: System, task: Task) -> list[LogLink]:
    """Where each container of the task logs (awslogs group and stream), from its task definition."""
    definition = system.ecs.task_definition_of_arn(task.task_definition_arn)
    if definition is None:
        return []
    links = []
    for c in definition.container_definitions:
        config = c.log_configuration
        if config is None or config.log_driver != "awslogs":
            continue
        try:
            options = AwsLogsOptions.from_options(config.options)
        except AwsError:
            continue
        runtime = next((x.runtime_id for x in task.containers if x.name == c.name), None) or ""
        links.append(LogLink(c.name, options.group, options.stream_name(c.name, task.task_id, runtime)))
    return links


LIFECYCLE = (
    ("created_at", "created (PROVISIONING)"),
    ("pull_started_at", "image pull started"),
    ("pull_stopped_at", "image pull finished"),
    ("started_at", "RUNNING"),
    ("stopping_at", "STOPPING"),
    ("execution_stopped_at", "containers exited"),
    ("stopped_at", "STOPPED"),
)


def lifecycle(task: Task) -> list[tuple[str, float, float]]:
    """(label, instant, seconds since creation) for each step the task went through."""
    created = task.created_at or 0.0
    steps = []
    for attribute, label in LIFECYCLE:
        instant = getattr(task, attribute)
        if instant is not None:
            steps.append((label, instant, instant - created))
    return steps


def duration(task: Task, now: float) -> float | None:
    if task.started_at is None:
        return None
    end = task.execution_stopped_at or task.stopped_at or now
    return max(0.0, end - task.started_at)


def cluster_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def task_url_parts(task: Task) -> tuple[str, str]:
    """(cluster name, task id): a task's stable address in the console."""
    return cluster_name(task.cluster_arn), task.task_id


def find_task(system: System, scope: Scope, cluster: str, task_id: str) -> Task | None:
    """A task by cluster name and id: in the Region shown, else in whichever Region has it (ids are unique)."""
    views = Views(system.db)
    here = views.task(scope.arn("ecs", f"task/{cluster}/{task_id}"))
    return here if here is not None else views.task_of_cluster_name(cluster, task_id)


def task_to_json(task: Task, now: float) -> dict[str, Any]:
    """A task row as the CLI and the console's live updates show it."""
    cluster, task_id = task_url_parts(task)
    return {
        "taskArn": task.task_arn,
        "taskId": task_id,
        "cluster": cluster,
        "taskDefinition": task.task_definition_arn.rsplit("/", 1)[-1],
        "lastStatus": task.last_status.value,
        "desiredStatus": task.desired_status,
        "startedBy": task.started_by,
        "launcher": task.launcher,
        "cpu": task.cpu,
        "memory": task.memory,
        "createdAt": iso(task.created_at),
        "stoppedAt": iso(task.stopped_at),
        "stopCode": task.stop_code.value if task.stop_code else None,
        "stoppedReason": task.stopped_reason,
        "exitCodes": {c.name: c.exit_code for c in task.containers},
        "durationSeconds": duration(task, now),
        "outcome": task_outcome(task).to_json(),
    }
