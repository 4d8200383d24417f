"""Terraform resource types, one module each; RESOURCES maps a type name to its schema and calls."""

from __future__ import annotations

from cronbridge.terraform.resources import (
    cloudwatch_event_rule,
    cloudwatch_event_target,
    cloudwatch_log_group,
    ecs_cluster,
    ecs_task_definition,
    iam_policy,
    iam_role,
    iam_role_policy,
    iam_role_policy_attachment,
    scheduler_schedule,
    scheduler_schedule_group,
    sqs_queue,
)
from cronbridge.terraform.resources.base import Aws, DataSourceType, ResourceType
from cronbridge.terraform.resources.data_sources import data_sources

RESOURCES: dict[str, ResourceType] = {
    module.TYPE.name: module.TYPE
    for module in (
        ecs_cluster,
        ecs_task_definition,
        cloudwatch_event_rule,
        cloudwatch_event_target,
        scheduler_schedule,
        scheduler_schedule_group,
        cloudwatch_log_group,
        iam_role,
        iam_policy,
        iam_role_policy,
        iam_role_policy_attachment,
        sqs_queue,
    )
}

__all__ = ["RESOURCES", "Aws", "DataSourceType", "ResourceType", "data_sources"]
