"""aws_ecs_task_definition: RegisterTaskDefinition and DeregisterTaskDefinition."""

from __future__ import annotations

import json

from cronbridge.terraform.resources.base import (
    Aws,
    ResourceType,
    Values,
    drop_none,
    first,
    retag_ecs,
    tags_list,
)
from cronbridge.terraform.schema import Attr, BlockSpec, computed, required

SCHEMA = BlockSpec(
    attrs={
        "family": required(force_new=True),
        "container_definitions": required(force_new=True, json=True),
        "cpu": Attr("string", force_new=True),
        "memory": Attr("string", force_new=True),
        "network_mode": Attr("string", force_new=True),
        "requires_compatibilities": Attr(("set", "string"), force_new=True),
        "execution_role_arn": Attr("string", force_new=True),
        "task_role_arn": Attr("string", force_new=True),
        "skip_destroy": Attr("bool", default=False),
        "tags": Attr(("map", "string")),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "arn_without_revision": computed(),
        "revision": computed("number"),
        "id": computed(),
    },
    blocks={
        "runtime_platform": BlockSpec(
            {
                "operating_system_family": Attr("string", force_new=True),
                "cpu_architecture": Attr("string", force_new=True),
            },
            max_items=1,
            force_new=True,
        ),
    },
)


def _platform(values: Values) -> dict[str, str] | None:
    block = first(values.get("runtime_platform"))
    if block is None:
        return None
    return (
        drop_none(
            operatingSystemFamily=block.get("operating_system_family"),
            cpuArchitecture=block.get("cpu_architecture"),
        )
        or None
    )


def create(aws: Aws, values: Values) -> Values:
    """Register a new revision."""
    reply = aws.client("ecs").register_task_definition(
        **drop_none(
            family=values["family"],
            containerDefinitions=json.loads(values["container_definitions"]),
            cpu=values.get("cpu"),
            memory=values.get("memory"),
            networkMode=values.get("network_mode"),
            requiresCompatibilities=values.get("requires_compatibilities"),
            executionRoleArn=values.get("execution_role_arn"),
            taskRoleArn=values.get("task_role_arn"),
            runtimePlatform=_platform(values),
            tags=tags_list(values.get("tags"), "key", "value"),
        )
    )
    definition = reply["taskDefinition"]
    arn = definition["taskDefinitionArn"]
    return {
        **values,
        "arn": arn,
        "arn_without_revision": arn.rsplit(":", 1)[0],
        "revision": definition["revision"],
        "id": values["family"],
        "tags_all": values.get("tags") or {},
    }


def delete(aws: Aws, values: Values) -> None:
    """Deregister the revision (kept when skip_destroy is set)."""
    if not values.get("skip_destroy"):
        aws.client("ecs").deregister_task_definition(taskDefinition=values["arn"])


def update(aws: Aws, old: Values, new: Values) -> Values:
    """Only skip_destroy and tags change in place."""
    retag_ecs(aws, old["arn"], old, new)
    return {**old, "skip_destroy": new.get("skip_destroy"), "tags": new.get("tags"), "tags_all": new.get("tags") or {}}


def exists(aws: Aws, values: Values) -> bool:
    """The revision is still ACTIVE (a deregistered one is INACTIVE)."""
    ecs = aws.client("ecs")
    try:
        definition = ecs.describe_task_definition(taskDefinition=values["arn"])["taskDefinition"]
    except ecs.exceptions.ClientException:
        return False
    return bool(definition.get("status") == "ACTIVE")


TYPE = ResourceType("aws_ecs_task_definition", SCHEMA, create, delete, update, exists)
