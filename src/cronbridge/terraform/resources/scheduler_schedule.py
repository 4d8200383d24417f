"""aws_scheduler_schedule: CreateSchedule, UpdateSchedule, DeleteSchedule."""

from __future__ import annotations

from typing import Any

from cronbridge.terraform.resources.base import (
    Aws,
    ResourceType,
    Values,
    drop_none,
    first,
    found,
    generated_name,
)
from cronbridge.terraform.resources.ecs_parameters import (
    DEAD_LETTER,
    ECS_ATTRS,
    ECS_BLOCKS,
    RETRY,
    dead_letter_wire,
    ecs_wire,
    retry_wire,
)
from cronbridge.terraform.schema import Attr, BlockSpec, computed, optional_computed, required

TARGET = BlockSpec(
    {"arn": required(), "role_arn": required(), "input": Attr("string")},
    {
        "ecs_parameters": BlockSpec(ECS_ATTRS, ECS_BLOCKS, max_items=1),
        "retry_policy": RETRY,
        "dead_letter_config": DEAD_LETTER,
    },
    max_items=1,
    required=True,
)

SCHEMA = BlockSpec(
    attrs={
        "name": optional_computed(force_new=True),
        "name_prefix": Attr("string", force_new=True),
        "group_name": Attr("string", default="default", force_new=True),
        "schedule_expression": required(),
        "schedule_expression_timezone": Attr("string", default="UTC"),
        "state": Attr("string", default="ENABLED"),
        "description": Attr("string"),
        "start_date": Attr("string"),
        "end_date": Attr("string"),
        "kms_key_arn": Attr("string"),
        "arn": computed(),
        "id": computed(),
    },
    blocks={
        "flexible_time_window": BlockSpec(
            {
                "mode": required(),
                "maximum_window_in_minutes": Attr("number"),
            },
            max_items=1,
            required=True,
        ),
        "target": TARGET,
    },
)


def _request(values: Values, name: str) -> dict[str, Any]:
    window = first(values.get("flexible_time_window")) or {"mode": "OFF"}
    target = first(values.get("target")) or {}
    minutes = window.get("maximum_window_in_minutes")
    return drop_none(
        Name=name,
        GroupName=values.get("group_name"),
        ScheduleExpression=values["schedule_expression"],
        ScheduleExpressionTimezone=values.get("schedule_expression_timezone"),
        State=values.get("state"),
        Description=values.get("description"),
        StartDate=values.get("start_date"),
        EndDate=values.get("end_date"),
        KmsKeyArn=values.get("kms_key_arn"),
        FlexibleTimeWindow=drop_none(
            Mode=window["mode"], MaximumWindowInMinutes=None if minutes is None else int(minutes)
        ),
        Target=drop_none(
            Arn=target.get("arn"),
            RoleArn=target.get("role_arn"),
            Input=target.get("input"),
            EcsParameters=ecs_wire(first(target.get("ecs_parameters")), scheduler=True),
            RetryPolicy=retry_wire(target),
            DeadLetterConfig=dead_letter_wire(target),
        ),
    )


def create(aws: Aws, values: Values) -> Values:
    """Create the schedule."""
    name = values.get("name") or generated_name(values.get("name_prefix") or "terraform-")
    reply = aws.client("scheduler").create_schedule(**_request(values, name))
    group = values.get("group_name") or "default"
    return {**values, "name": name, "arn": reply["ScheduleArn"], "id": f"{group}/{name}"}


def update(aws: Aws, old: Values, new: Values) -> Values:
    """UpdateSchedule replaces every setting."""
    aws.client("scheduler").update_schedule(**_request(new, old["name"]))
    return {**new, "name": old["name"], "arn": old["arn"], "id": old["id"]}


def delete(aws: Aws, values: Values) -> None:
    """Delete the schedule."""
    aws.client("scheduler").delete_schedule(Name=values["name"], GroupName=values.get("group_name") or "default")


def exists(aws: Aws, values: Values) -> bool:
    """GetSchedule finds it."""
    group = values.get("group_name") or "default"
    return found(lambda: aws.client("scheduler").get_schedule(Name=values["name"], GroupName=group))


TYPE = ResourceType("aws_scheduler_schedule", SCHEMA, create, delete, update, exists)
