"""EventBridge Scheduler's nouns: schedule groups and schedules, with a schedule's one target and its time window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cronbridge.model.events import DeadLetterConfig, EcsParameters, RetryPolicy


@dataclass
class FlexibleTimeWindow:
    mode: str = "OFF"
    maximum_window_in_minutes: int | None = None


@dataclass
class ScheduleTarget:
    arn: str = ""
    role_arn: str = ""
    input: str | None = None
    ecs_parameters: EcsParameters | None = None
    retry_policy: RetryPolicy | None = None
    dead_letter_config: DeadLetterConfig | None = None
    sqs_parameters: dict[str, Any] | None = None
    event_bridge_parameters: dict[str, Any] | None = None
    kinesis_parameters: dict[str, Any] | None = None
    sage_maker_pipeline_parameters: dict[str, Any] | None = None


@dataclass
class Schedule:
    """A schedule as GetSchedule returns it, plus when its expression was set and when it was last enabled."""

    arn: str = ""
    group_name: str = "default"
    name: str = ""
    schedule_expression: str = ""
    start_date: float | None = None
    end_date: float | None = None
    description: str | None = None
    schedule_expression_timezone: str | None = None
    state: str = "ENABLED"
    creation_date: float = 0.0
    last_modification_date: float = 0.0
    kms_key_arn: str | None = None
    target: ScheduleTarget = field(default_factory=ScheduleTarget)
    flexible_time_window: FlexibleTimeWindow = field(default_factory=FlexibleTimeWindow)
    action_after_completion: str | None = None
    schedule_set_at: float = 0.0
    enabled_at: float = 0.0
    client_token: str | None = None

    @property
    def key(self) -> str:
        return f"{self.group_name}/{self.name}"

    @property
    def timezone(self) -> str:
        return self.schedule_expression_timezone or "UTC"


@dataclass
class ScheduleGroup:
    arn: str = ""
    name: str = ""
    state: str = "ACTIVE"
    creation_date: float = 0.0
    last_modification_date: float = 0.0
    tags: list[dict[str, str]] = field(default_factory=list)
    client_token: str | None = None
