"""EventBridge's nouns: rules and targets, with a target's ECS parameters, retry policy and dead-letter config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AwsVpcConfiguration:
    subnets: list[str] = field(default_factory=list)
    security_groups: list[str] | None = None
    assign_public_ip: str | None = None


@dataclass
class NetworkConfiguration:
    awsvpc_configuration: AwsVpcConfiguration | None = field(default=None, metadata={"wire": "awsvpcConfiguration"})


@dataclass
class EcsParameters:
    task_definition_arn: str = ""
    task_count: int | None = None
    launch_type: str | None = None
    network_configuration: NetworkConfiguration | None = None
    platform_version: str | None = None
    group: str | None = None
    capacity_provider_strategy: list[dict[str, Any]] | None = None
    enable_ecs_managed_tags: bool | None = field(default=None, metadata={"wire": "EnableECSManagedTags"})
    enable_execute_command: bool | None = None
    placement_constraints: list[dict[str, Any]] | None = None
    placement_strategy: list[dict[str, Any]] | None = None
    propagate_tags: str | None = None
    reference_id: str | None = None
    tags: list[dict[str, Any]] | None = None


@dataclass
class RetryPolicy:
    maximum_retry_attempts: int | None = None
    maximum_event_age_in_seconds: int | None = None


@dataclass
class DeadLetterConfig:
    arn: str | None = None


@dataclass
class Target:
    id: str = ""
    arn: str = ""
    role_arn: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None
    ecs_parameters: EcsParameters | None = None
    sqs_parameters: dict[str, Any] | None = None
    dead_letter_config: DeadLetterConfig | None = None
    retry_policy: RetryPolicy | None = None
    # EventBridge Scheduler's templated PutEvents target ({"Source", "DetailType"}); never on a rule's target
    event_bridge_parameters: dict[str, Any] | None = None


@dataclass
class Rule:
    name: str = ""
    arn: str = ""
    event_bus_name: str = "default"
    schedule_expression: str | None = None
    event_pattern: str | None = None
    state: str = "ENABLED"
    description: str | None = None
    role_arn: str | None = None
    managed_by: str | None = None
    created_by: str | None = None
    tags: list[dict[str, str]] | None = None
    created_at: float = 0.0
    schedule_set_at: float = 0.0
    enabled_at: float = 0.0

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


@dataclass
class EventBus:
    name: str = ""
    arn: str = ""
    description: str | None = None
    policy: str | None = None
    created_at: float = 0.0
    last_modified: float = 0.0
    tags: list[dict[str, str]] | None = None
