"""Schedules as the scheduler engine plans them: one Plan per enabled schedule, its one target as an engine Target."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

from cronbridge.model.events import EcsParameters, Target
from cronbridge.model.scheduler import Schedule
from cronbridge.schedule import parse
from cronbridge.scheduler.sources import Plan
from cronbridge.schedules.service import SchedulesService

log = logging.getLogger("cronbridge.scheduler")
TARGET_ID = "target"  # a schedule has exactly one target; this is its id in the invocation log


class ScheduleSource:
    """EventBridge Scheduler schedules; `completed` deletes a schedule whose ActionAfterCompletion is DELETE."""

    kind = "schedule"

    def __init__(self, schedules: SchedulesService) -> None:
        self.schedules = schedules

    def plans(self) -> Iterable[Plan]:
        tags = self._group_tags()
        for schedule in self.schedules.all():
            if schedule.state == "ENABLED":
                yield plan_of(schedule, tags.get(group_arn(schedule), {}))

    def plan(self, arn: str) -> Plan | None:
        """The enabled schedule's plan; a schedule deleted after completing still resolves (its retries run), and
        plans no further slot."""
        schedule = self.schedules.find(arn) or self.schedules.retired(arn)
        if schedule is None or schedule.state != "ENABLED":
            return None
        return self.plan_of(schedule)

    def plan_of(self, schedule: Schedule) -> Plan:
        """The schedule as a plan, enabled or not (run-now launches disabled schedules too)."""
        return plan_of(schedule, self._group_tags().get(group_arn(schedule), {}))

    def owns(self, arn: str) -> bool:
        return ":scheduler:" in arn and ":schedule/" in arn

    def completed(self, plan: Plan) -> None:
        schedule = self.schedules.find(plan.arn)
        if schedule is not None and schedule.action_after_completion == "DELETE":
            log.info("schedule %s: completed; deleted (ActionAfterCompletion DELETE)", schedule.arn)
            self.schedules.retire(schedule)

    def _group_tags(self) -> dict[str, dict[str, str]]:
        """Each stored group's tags, by the group's ARN."""
        return {g.arn: {t["Key"]: t["Value"] for t in g.tags} for g in self.schedules.all_groups()}


def group_arn(schedule: Schedule) -> str:
    """The ARN of the schedule's group (same account and Region)."""
    return schedule.arn.replace(":schedule/", ":schedule-group/", 1).rsplit("/", 1)[0]


def plan_of(schedule: Schedule, tags: dict[str, str]) -> Plan:
    """Rates count from StartDate (or from when the expression was set); one-time schedules ignore both dates."""
    one_time = parse(schedule.schedule_expression, allow_at=True).kind == "at"
    start = schedule.start_date if schedule.start_date is not None else schedule.schedule_set_at
    not_before = max(schedule.enabled_at, schedule.schedule_set_at)
    if schedule.start_date is not None and not one_time:
        not_before = max(not_before, math.nextafter(schedule.start_date, -math.inf))
    window = schedule.flexible_time_window
    minutes = window.maximum_window_in_minutes if window.mode == "FLEXIBLE" else None
    return Plan(
        key=f"schedule:{schedule.arn}",
        arn=schedule.arn,
        name=schedule.key,
        targets=(schedule_target(schedule),),
        started_by=f"chronos-schedule/{schedule.name}"[:128],
        expression=schedule.schedule_expression,
        timezone=schedule.timezone,
        start=start,
        not_before=not_before,
        end=None if one_time else schedule.end_date,
        window=float((minutes or 0) * 60),
        tags=tags,
    )


def schedule_target(schedule: Schedule) -> Target:
    """The schedule's target in the shape the engine invokes (an EventBridge target): ECS, SQS, an event bus (its
    EventBridgeParameters), a log group."""
    target = schedule.target
    ecs = target.ecs_parameters
    if ecs is not None and ecs.tags:
        ecs = EcsParameters(**{**ecs.__dict__, "tags": _ecs_tags(ecs.tags)})
    return Target(
        id=TARGET_ID,
        arn=target.arn,
        role_arn=target.role_arn,
        input=target.input,
        ecs_parameters=ecs,
        sqs_parameters=target.sqs_parameters,
        dead_letter_config=target.dead_letter_config,
        retry_policy=target.retry_policy,
        event_bridge_parameters=target.event_bridge_parameters,
    )


def _ecs_tags(tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scheduler writes ECS tags as maps ({"key": k, "value": v} or {k: v}); RunTask wants key/value pairs."""
    pairs: list[dict[str, Any]] = []
    for item in tags:
        if "key" in item:
            pairs.append({"key": item["key"], "value": item.get("value")})
        else:
            pairs.extend({"key": k, "value": v} for k, v in item.items())
    return pairs
