"""aws_cloudwatch_event_target: PutTargets (create and update) and RemoveTargets."""

from __future__ import annotations

from typing import Any

from cronbridge.errors import AwsError
from cronbridge.terraform.resources.base import NOT_FOUND, Aws, ResourceType, Values, drop_none, error_code, first
from cronbridge.terraform.resources.base import generated_name as _generated
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

SCHEMA = BlockSpec(
    attrs={
        "rule": required(force_new=True),
        "arn": required(),
        "target_id": optional_computed(force_new=True),
        "role_arn": Attr("string"),
        "input": Attr("string", json=True),
        "input_path": Attr("string"),
        "event_bus_name": Attr("string", default="default", force_new=True),
        "id": computed(),
    },
    blocks={
        "ecs_target": BlockSpec(ECS_ATTRS, ECS_BLOCKS, max_items=1),
        "input_transformer": BlockSpec(
            {"input_paths": Attr(("map", "string")), "input_template": required()}, max_items=1
        ),
        "sqs_target": BlockSpec({"message_group_id": Attr("string")}, max_items=1),
        "retry_policy": RETRY,
        "dead_letter_config": DEAD_LETTER,
    },
)


def _transformer(block: Values | None) -> dict[str, Any] | None:
    if block is None:
        return None
    return drop_none(InputPathsMap=block.get("input_paths"), InputTemplate=block["input_template"])


def _put(aws: Aws, values: Values, target_id: str) -> None:
    target = drop_none(
        Id=target_id,
        Arn=values["arn"],
        RoleArn=values.get("role_arn"),
        Input=values.get("input"),
        InputPath=values.get("input_path"),
        EcsParameters=ecs_wire(first(values.get("ecs_target"))),
        InputTransformer=_transformer(first(values.get("input_transformer"))),
        SqsParameters=drop_none(MessageGroupId=(first(values.get("sqs_target")) or {}).get("message_group_id")) or None,
        RetryPolicy=retry_wire(values),
        DeadLetterConfig=dead_letter_wire(values),
    )
    reply = aws.client("events").put_targets(
        Rule=values["rule"],
        EventBusName=values.get("event_bus_name") or "default",
        Targets=[target],
    )
    if reply.get("FailedEntryCount"):
        entry = reply["FailedEntries"][0]
        raise AwsError(entry.get("ErrorMessage", "PutTargets failed"), entry.get("ErrorCode"))


def create(aws: Aws, values: Values) -> Values:
    """Add the target to its rule."""
    target_id = values.get("target_id") or _generated("terraform-")
    _put(aws, values, target_id)
    return {**values, "target_id": target_id, "id": f"{values['rule']}-{target_id}"}


def update(aws: Aws, old: Values, new: Values) -> Values:
    """PutTargets with the same id replaces the target in place."""
    _put(aws, new, old["target_id"])
    return {**new, "target_id": old["target_id"], "id": old["id"]}


def delete(aws: Aws, values: Values) -> None:
    """Remove the target from its rule."""
    aws.client("events").remove_targets(
        Rule=values["rule"],
        Ids=[values["target_id"]],
        EventBusName=values.get("event_bus_name") or "default",
    )


def exists(aws: Aws, values: Values) -> bool:
    """Its rule lists a target with its id."""
    events = aws.client("events")
    bus = values.get("event_bus_name") or "default"
    try:
        targets = events.list_targets_by_rule(Rule=values["rule"], EventBusName=bus)["Targets"]
    except Exception as exc:
        if error_code(exc) in NOT_FOUND:
            return False
        raise
    return any(t["Id"] == values["target_id"] for t in targets)


TYPE = ResourceType("aws_cloudwatch_event_target", SCHEMA, create, delete, update, exists)
