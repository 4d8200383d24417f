"""aws_cloudwatch_event_rule: PutRule (create and update) and DeleteRule."""

from __future__ import annotations

from cronbridge.terraform.resources.base import (
    Aws,
    ResourceType,
    Values,
    drop_none,
    found,
    generated_name,
    tag_changes,
    tags_list,
)
from cronbridge.terraform.schema import Attr, BlockSpec, computed, optional_computed

SCHEMA = BlockSpec(
    attrs={
        "name": optional_computed(force_new=True),
        "name_prefix": Attr("string", force_new=True),
        "schedule_expression": Attr("string"),
        "event_pattern": Attr("string", json=True),
        "description": Attr("string"),
        "is_enabled": Attr("bool"),
        "state": Attr("string"),
        "role_arn": Attr("string"),
        "event_bus_name": Attr("string", default="default", force_new=True),
        "tags": Attr(("map", "string")),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "id": computed(),
    }
)


def state_of(values: Values) -> str:
    """ENABLED or DISABLED from `state`, else from the deprecated `is_enabled` (default enabled)."""
    if values.get("state"):
        return str(values["state"])
    return "DISABLED" if values.get("is_enabled") is False else "ENABLED"


def _put(aws: Aws, values: Values, name: str, tags: bool) -> str:
    reply = aws.client("events").put_rule(
        **drop_none(
            Name=name,
            ScheduleExpression=values.get("schedule_expression"),
            EventPattern=values.get("event_pattern"),
            Description=values.get("description"),
            State=state_of(values),
            RoleArn=values.get("role_arn"),
            EventBusName=values.get("event_bus_name"),
            Tags=tags_list(values.get("tags")) if tags else None,
        )
    )
    return str(reply["RuleArn"])


def create(aws: Aws, values: Values) -> Values:
    """Create the rule."""
    name = values.get("name") or generated_name(values.get("name_prefix") or "terraform-")
    arn = _put(aws, values, name, tags=True)
    return {**values, "name": name, "arn": arn, "id": name, "tags_all": values.get("tags") or {}}


def update(aws: Aws, old: Values, new: Values) -> Values:
    """PutRule again with the new settings."""
    _put(aws, new, old["name"], tags=False)
    added, removed = tag_changes(old, new)
    events = aws.client("events")
    if added:
        events.tag_resource(ResourceARN=old["arn"], Tags=tags_list(added))
    if removed:
        events.untag_resource(ResourceARN=old["arn"], TagKeys=removed)
    return {
        **new,
        "name": old["name"],
        "arn": old["arn"],
        "id": old["id"],
        "tags_all": new.get("tags") or {},
    }


def delete(aws: Aws, values: Values) -> None:
    """Delete the rule (its targets are separate resources, removed first)."""
    aws.client("events").delete_rule(Name=values["name"], EventBusName=values.get("event_bus_name") or "default")


def exists(aws: Aws, values: Values) -> bool:
    """DescribeRule finds it."""
    bus = values.get("event_bus_name") or "default"
    return found(lambda: aws.client("events").describe_rule(Name=values["name"], EventBusName=bus))


TYPE = ResourceType("aws_cloudwatch_event_rule", SCHEMA, create, delete, update, exists)
