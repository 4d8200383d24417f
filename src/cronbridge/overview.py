"""What people look at: rules and schedules with next fire times and last outcome, tasks with their logs."""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cronbridge.awslogs import AwsLogsOptions
from cronbridge.errors import AwsError
from cronbridge.model.ecs import Task, TaskDefinition
from cronbridge.model.events import Rule, Target
from cronbridge.schedule import parse
from cronbridge.scheduler.engine import next_fire
from cronbridge.store.invocations import Invocation
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


def summarize_rule(system: System, rule: Rule, count: int = 10) -> Summary:
    return Summary(
        kind="rule",
        name=rule.name,
        arn=rule.arn,
        expression=rule.schedule_expression,
        description=describe_expression(rule.schedule_expression) or rule.description,
        timezone="UTC",
        state=rule.state,
        next_times=rule_next_times(rule, system.clock.now(), count),
        last=Views(system.db).last_invocation(rule.name),
    )


def rules_page(
    system: System, prefix: str = "", after: str = "", limit: int = PAGE, count: int = 10
) -> tuple[list[Summary], str | None]:
    """A page of rules in name order with their next `count` fire times; the name to continue after."""
    found = system.events.list_rules(prefix=prefix, after=after, limit=limit + 1)
    page = found[:limit]
    following = page[-1].name if len(found) > limit else None
    return [summarize_rule(system, r, count) for r in page], following


# EventBridge Scheduler: `system.schedules` when the server runs it (its plans give the next slots) ------------


def schedules_service(system: System) -> Any | None:
    return getattr(system, "schedules", None)


def schedules_page(
    system: System, after: str = "", limit: int = PAGE, count: int = 10
) -> tuple[list[Summary], str | None]:
    """A page of EventBridge Scheduler schedules in GROUP/NAME order; empty when this server runs none."""
    if schedules_service(system) is None:
        return [], None
    try:
        kind = importlib.import_module("cronbridge.schedules.service").SCHEDULE
        cls = importlib.import_module("cronbridge.model.scheduler").Schedule
    except (ImportError, AttributeError):  # the Scheduler part moved its names: show rules only, say so in the log
        log.warning("EventBridge Scheduler schedules cannot be listed: cronbridge.schedules changed its names")
        return [], None
    found = system.docs.list(kind, cls, after=after, limit=limit + 1)
    page = found[:limit]
    following = page[-1].key if len(found) > limit else None
    return [summarize_schedule(system, x, count) for x in page], following


def find_schedule(system: System, group: str, name: str) -> Any | None:
    service = schedules_service(system)
    if service is None:
        return None
    try:
        return service.get(group, name)
    except AwsError:
        return None


def schedule_plan(system: System, schedule: Any) -> Any:
    """The scheduler's plan of a schedule (its slots in its zone, its target as the engine launches it)."""
    source = importlib.import_module("cronbridge.schedules.source")
    return source.ScheduleSource(system.schedules).plan_of(schedule)  # type: ignore[attr-defined]


def schedule_next_times(system: System, schedule: Any, count: int) -> list[float]:
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


def summarize_schedule(system: System, schedule: Any, count: int = 10) -> Summary:
    expression = schedule.schedule_expression
    return Summary(
        kind="schedule",
        name=schedule.name,
        arn=schedule.arn,
        expression=expression,
        description=describe_expression(expression),
        timezone=schedule.schedule_expression_timezone or "UTC",
        state=schedule.state,
        next_times=schedule_next_times(system, schedule, count),
        last=Views(system.db).last_invocation(f"{schedule.group_name}/{schedule.name}"),
        group=schedule.group_name,
    )


# one rule -------------------------------------------------------------------------------------------


@dataclass
class ResolvedTarget:
    """A rule's target with what it points at, resolved now."""

    target: Target
    task_definition: TaskDefinition | None
    problem: str | None
    input_pretty: str | None


def resolve_targets(system: System, rule_name: str) -> list[ResolvedTarget]:
    resolved = []
    for target in system.events.targets(rule_name):
        definition, problem = None, None
        if target.ecs_parameters is not None:
            try:
                definition = system.ecs.task_definition(target.ecs_parameters.task_definition_arn)
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
    try:
        definition = system.ecs.task_definition(task.task_definition_arn)
    except AwsError:
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


def find_task(system: System, cluster: str, task_id: str) -> Task | None:
    found = system.ecs.find_cluster(cluster)
    views = Views(system.db)
    if found is not None:
        prefix = found.cluster_arn.replace(":cluster/", ":task/", 1)
        return views.task(f"{prefix}/{task_id}")
    s = system.settings
    return views.task(f"arn:aws:ecs:{s.region}:{s.account_id}:task/{cluster}/{task_id}")


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
    }
