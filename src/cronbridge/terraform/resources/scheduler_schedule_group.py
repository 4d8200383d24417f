"""aws_scheduler_schedule_group: CreateScheduleGroup and DeleteScheduleGroup."""

from __future__ import annotations

from cronbridge.terraform.resources.base import (
    Aws,
    ResourceType,
    Values,
    drop_none,
    found,
    generated_name,
    tags_list,
)
from cronbridge.terraform.schema import Attr, BlockSpec, computed, optional_computed

SCHEMA = BlockSpec(
    attrs={
        "name": optional_computed(force_new=True),
        "name_prefix": Attr("string", force_new=True),
        "tags": Attr(("map", "string"), force_new=True),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "state": computed(),
        "id": computed(),
    }
)


def create(aws: Aws, values: Values) -> Values:
    """Create the group."""
    name = values.get("name") or generated_name(values.get("name_prefix") or "terraform-")
    reply = aws.client("scheduler").create_schedule_group(**drop_none(Name=name, Tags=tags_list(values.get("tags"))))
    return {
        **values,
        "name": name,
        "arn": reply["ScheduleGroupArn"],
        "state": "ACTIVE",
        "id": name,
        "tags_all": values.get("tags") or {},
    }


def delete(aws: Aws, values: Values) -> None:
    """Delete the group (and, as AWS does, its schedules)."""
    aws.client("scheduler").delete_schedule_group(Name=values["name"])


def exists(aws: Aws, values: Values) -> bool:
    """GetScheduleGroup finds it."""
    return found(lambda: aws.client("scheduler").get_schedule_group(Name=values["name"]))


TYPE = ResourceType("aws_scheduler_schedule_group", SCHEMA, create, delete, None, exists)
