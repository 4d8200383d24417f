"""What EventBridge Scheduler refuses in a schedule, with the service's messages. Pure."""

from __future__ import annotations

import re

from cronbridge.errors import ValidationError
from cronbridge.model.scheduler import Schedule
from cronbridge.schedule import ScheduleError, ZoneError, check_zone, parse

NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
QUEUE_ARN = re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+")
START_GRACE = 300.0  # a StartDate may lie at most 5 minutes in the past
MAX_WINDOW = 1440


def check_group_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise ValidationError(
            f"Value '{name}' at 'name' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+"
        )


def check_schedule(schedule: Schedule, now: float, previous: Schedule | None = None) -> None:
    """Raise ValidationError for the first thing the service would refuse."""
    check_group_name(schedule.name)
    _check_expression(schedule)
    _check_dates(schedule, now, previous)
    _check_window(schedule)
    _check_target(schedule)


def _check_expression(schedule: Schedule) -> None:
    try:
        parse(schedule.schedule_expression, allow_at=True)
    except ScheduleError as err:
        raise ValidationError(f"Invalid Schedule Expression {schedule.schedule_expression}.") from err
    if schedule.schedule_expression_timezone is not None:
        try:
            check_zone(schedule.schedule_expression_timezone)
        except (ZoneError, ValueError) as err:
            raise ValidationError(
                f"Invalid ScheduleExpressionTimezone {schedule.schedule_expression_timezone}."
            ) from err


def _check_dates(schedule: Schedule, now: float, previous: Schedule | None) -> None:
    start, end = schedule.start_date, schedule.end_date
    unchanged_start = previous is not None and previous.start_date == start
    if start is not None and start < now - START_GRACE and not unchanged_start:
        raise ValidationError("The StartDate you specify cannot be earlier than 5 minutes ago.")
    if end is not None and end <= now:
        raise ValidationError("The EndDate you specify cannot be earlier than the current time.")
    if start is not None and end is not None and end <= start:
        raise ValidationError("The EndDate you specify must be later than the StartDate.")


def _check_window(schedule: Schedule) -> None:
    window = schedule.flexible_time_window
    if window.mode == "FLEXIBLE":
        minutes = window.maximum_window_in_minutes
        if minutes is None:
            raise ValidationError("MaximumWindowInMinutes is required when the FlexibleTimeWindow Mode is FLEXIBLE.")
        if not 1 <= minutes <= MAX_WINDOW:
            raise ValidationError(
                f"Value '{minutes}' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: "
                f"Member must have value between 1 and {MAX_WINDOW}"
            )
    elif window.maximum_window_in_minutes is not None:
        raise ValidationError("MaximumWindowInMinutes must not be specified when the FlexibleTimeWindow Mode is OFF.")


def _check_target(schedule: Schedule) -> None:
    target = schedule.target
    if not ROLE_ARN.fullmatch(target.role_arn):
        raise ValidationError(
            f"Value '{target.role_arn}' at 'target.roleArn' failed to satisfy constraint: "
            r"Member must satisfy regular expression pattern: arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+"
        )
    dlq = target.dead_letter_config.arn if target.dead_letter_config else None
    if dlq is not None and not QUEUE_ARN.fullmatch(dlq):
        raise ValidationError(
            f"Value '{dlq}' at 'target.deadLetterConfig.arn' failed to satisfy constraint: Member must satisfy "
            r"regular expression pattern: arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+"
        )
    if target.ecs_parameters is not None and ":ecs:" not in target.arn:
        raise ValidationError("EcsParameters can only be specified for an Amazon ECS cluster target.")
    if ":ecs:" in target.arn and target.ecs_parameters is None:
        raise ValidationError("EcsParameters must be specified for an Amazon ECS cluster target.")
