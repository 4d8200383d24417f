"""The ECS target shape shared by aws_cloudwatch_event_target and aws_scheduler_schedule."""

from __future__ import annotations

from typing import Any

from cronbridge.terraform.resources.base import Values, drop_none, first
from cronbridge.terraform.schema import Attr, BlockSpec, required

NETWORK = BlockSpec(
    {
        "subnets": required(("set", "string")),
        "security_groups": Attr(("set", "string")),
        "assign_public_ip": Attr("bool", default=False),
    },
    max_items=1,
)

ECS_ATTRS = {
    "task_definition_arn": required(),
    "task_count": Attr("number", default=1),
    "launch_type": Attr("string"),
    "platform_version": Attr("string"),
    "enable_execute_command": Attr("bool", default=False),
    "enable_ecs_managed_tags": Attr("bool", default=False),
    "propagate_tags": Attr("string"),
    "group": Attr("string"),
    "tags": Attr(("map", "string")),
}

CAPACITY = BlockSpec({"capacity_provider": required(), "weight": Attr("number"), "base": Attr("number")})
PLACEMENT_CONSTRAINT = BlockSpec({"type": required(), "expression": Attr("string")})
PLACEMENT_STRATEGY = BlockSpec({"type": required(), "field": Attr("string")})
ECS_BLOCKS = {
    "network_configuration": NETWORK,
    "capacity_provider_strategy": CAPACITY,
    "placement_constraint": PLACEMENT_CONSTRAINT,
    "ordered_placement_strategy": PLACEMENT_STRATEGY,
}

RETRY = BlockSpec(
    {
        "maximum_event_age_in_seconds": Attr("number"),
        "maximum_retry_attempts": Attr("number"),
    },
    max_items=1,
)

DEAD_LETTER = BlockSpec({"arn": Attr("string")}, max_items=1)


def network_wire(ecs: Values) -> dict[str, Any] | None:
    """awsvpcConfiguration from a network_configuration block."""
    net = first(ecs.get("network_configuration"))
    if net is None:
        return None
    return {
        "awsvpcConfiguration": drop_none(
            Subnets=list(net.get("subnets") or []),
            SecurityGroups=list(net.get("security_groups") or []),
            AssignPublicIp="ENABLED" if net.get("assign_public_ip") else "DISABLED",
        )
    }


def _tags(tags: dict[str, str] | None, scheduler: bool) -> list[Any] | None:
    """EventBridge's [{Key, Value}] or EventBridge Scheduler's [{key: value}]."""
    if not tags:
        return None
    if scheduler:
        return [{k: v} for k, v in tags.items()]
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _placement(ecs: Values) -> dict[str, Any]:
    """Capacity providers, placement constraints and strategies, in the wire's shapes."""
    return {
        "CapacityProviderStrategy": [
            drop_none(capacityProvider=c["capacity_provider"], weight=_int(c.get("weight")), base=_int(c.get("base")))
            for c in ecs.get("capacity_provider_strategy") or []
        ],
        "PlacementConstraints": [
            drop_none(type=c["type"], expression=c.get("expression")) for c in ecs.get("placement_constraint") or []
        ],
        "PlacementStrategy": [
            drop_none(type=c["type"], field=c.get("field")) for c in ecs.get("ordered_placement_strategy") or []
        ],
    }


def ecs_wire(ecs: Values | None, scheduler: bool = False) -> dict[str, Any] | None:
    """EcsParameters from an ecs_target (EventBridge) / ecs_parameters (Scheduler) block."""
    if ecs is None:
        return None
    return drop_none(
        Tags=_tags(ecs.get("tags"), scheduler),
        **_placement(ecs),
        TaskDefinitionArn=ecs["task_definition_arn"],
        TaskCount=int(ecs.get("task_count") or 1),
        LaunchType=ecs.get("launch_type"),
        PlatformVersion=ecs.get("platform_version"),
        EnableExecuteCommand=ecs.get("enable_execute_command"),
        EnableECSManagedTags=ecs.get("enable_ecs_managed_tags"),
        PropagateTags=ecs.get("propagate_tags"),
        Group=ecs.get("group"),
        NetworkConfiguration=network_wire(ecs),
    )


def retry_wire(values: Values) -> dict[str, int] | None:
    """RetryPolicy from a retry_policy block."""
    block = first(values.get("retry_policy"))
    if block is None:
        return None
    return (
        drop_none(
            MaximumEventAgeInSeconds=_int(block.get("maximum_event_age_in_seconds")),
            MaximumRetryAttempts=_int(block.get("maximum_retry_attempts")),
        )
        or None
    )


def dead_letter_wire(values: Values) -> dict[str, str] | None:
    """DeadLetterConfig from a dead_letter_config block."""
    block = first(values.get("dead_letter_config"))
    return drop_none(Arn=block.get("arn")) or None if block else None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
