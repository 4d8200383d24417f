"""What a slot's target receives (PURE): the scheduled event, the target's input (a rule's Input, InputPath or
InputTransformer applied to its "Scheduled Event"; a schedule's Input with Scheduler's context attributes), and the
RunTask an ECS target asks for."""

from __future__ import annotations

import json
import uuid
from typing import Any

from cronbridge import nesting
from cronbridge.codec import camel, decode
from cronbridge.ecs.runtime.requests import RunTaskRequest
from cronbridge.errors import AwsError, ValidationError
from cronbridge.events.envelopes import SCHEDULED_EVENT, envelope, scheduled_event
from cronbridge.events.transform import Invocation as Transformed
from cronbridge.events.transform import TransformFailed, scheduler_input, target_input
from cronbridge.model.ecs import Tag, TaskOverride
from cronbridge.model.events import EcsParameters, Target
from cronbridge.scheduler.deadletter import execution_id, iso
from cronbridge.scheduler.sources import Plan
from cronbridge.store.invocations import Invocation

SCHEDULER_SOURCE = "aws.scheduler"
DEFAULT_SCHEDULE_INPUT = "{}"  # Scheduler documents "a default notification" without its shape; ours is {}


def is_schedule(plan: Plan) -> bool:
    return plan.key.startswith("schedule:")


def slot_event_id(token: str) -> str:
    """The event id of a slot: the same on every attempt and retry (FIFO queues deduplicate by it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, token))


def slot_event(plan: Plan, invocation: Invocation) -> dict[str, Any]:
    """A rule's "Scheduled Event" as AWS sends it (source aws.events, resources [rule ARN], time = the slot); for a
    schedule, the same envelope with source aws.scheduler (it names the log stream, deduplicates a FIFO message and
    gives a PutEvents target its id and time; a schedule's targets receive its Input, not this event)."""
    event_id = slot_event_id(invocation.client_token)
    if is_schedule(plan):
        return envelope(
            event_id, SCHEDULER_SOURCE, SCHEDULED_EVENT, {}, plan.account, plan.region, invocation.scheduled_at,
            [plan.arn],
        )
    return scheduled_event(plan.arn, invocation.scheduled_at, event_id, plan.account, plan.region)


def scheduler_context(plan: Plan, invocation: Invocation, attempt: int) -> dict[str, str]:
    """EventBridge Scheduler's context attributes of one attempt (`<aws.scheduler.*>` in a schedule's Input)."""
    return {
        "aws.scheduler.schedule-arn": plan.arn,
        "aws.scheduler.scheduled-time": iso(invocation.scheduled_at, millis=False),
        "aws.scheduler.execution-id": execution_id(invocation.client_token, attempt),
        "aws.scheduler.attempt-number": str(attempt),
    }


def slot_input(plan: Plan, target: Target, invocation: Invocation, attempt: int) -> str | None:
    """The target's own input for this attempt, or None when it has none (a rule's target then gets the event, an
    ECS target no overrides). AwsError TransformFailed when a JSON template no longer parses once filled."""
    if is_schedule(plan):
        if target.input is None or "<aws.scheduler." not in target.input:
            return target.input
        return scheduler_input(target.input, scheduler_context(plan, invocation, attempt))
    if target.input is None and target.input_path is None and target.input_transformer is None:
        return None
    event = slot_event(plan, invocation)
    arrived = iso(invocation.fired_at or invocation.scheduled_at, millis=False)
    try:
        return target_input(
            Transformed(plan.arn, plan.name, event, arrived), target.input, target.input_path, target.input_transformer
        )
    except TransformFailed as failed:
        raise AwsError(str(failed), "TransformFailed") from None


def slot_payload(plan: Plan, target: Target, invocation: Invocation, attempt: int) -> str:
    """What a target other than ECS receives: its input, else the scheduled event (rules) or `{}` (schedules)."""
    given = slot_input(plan, target, invocation, attempt)
    if given is not None:
        return given
    if is_schedule(plan):
        return DEFAULT_SCHEDULE_INPUT
    return json.dumps(slot_event(plan, invocation), separators=(",", ":"), ensure_ascii=False)


def run_task_request(plan: Plan, target: Target, invocation: Invocation, attempt: int | None = None) -> RunTaskRequest:
    """What EventBridge asks ECS for: the target's EcsParameters, its input as overrides, the slot's token."""
    ecs = target.ecs_parameters or EcsParameters()
    vpc = ecs.network_configuration.awsvpc_configuration if ecs.network_configuration else None
    network = None
    if vpc is not None:
        network = {
            "awsvpc_configuration": {
                "subnets": vpc.subnets,
                "security_groups": vpc.security_groups or [],
                "assign_public_ip": vpc.assign_public_ip or "DISABLED",
            }
        }
    number = attempt if attempt is not None else max(invocation.attempts, 1)
    return RunTaskRequest(
        region=plan.region,
        account=plan.account,
        task_definition=ecs.task_definition_arn,
        cluster=target.arn,
        count=ecs.task_count or 1,
        launch_type=ecs.launch_type,
        platform_version=ecs.platform_version,
        network_configuration=network,
        overrides=parse_input(slot_input(plan, target, invocation, number)),
        started_by=plan.started_by,
        group=ecs.group,
        client_token=invocation.client_token,
        enable_execute_command=bool(ecs.enable_execute_command),
        tags=[Tag(t.get("key") or t.get("Key"), t.get("value") or t.get("Value")) for t in ecs.tags or []] or None,
        propagate_tags=ecs.propagate_tags,
        placement_constraints=[_constraint(c) for c in ecs.placement_constraints or []] or None,
    )


def _constraint(given: dict[str, Any]) -> dict[str, Any]:
    """A target's placement constraint in RunTask's spelling (type, expression)."""
    found = {"type": given.get("type", given.get("Type")),
             "expression": given.get("expression", given.get("Expression"))}  # fmt: skip
    return {k: v for k, v in found.items() if v is not None}


def parse_input(text: str | None) -> TaskOverride | None:
    """A target's Input for an ECS target: the RunTask overrides object ({"containerOverrides": [...]})."""
    if not text:
        return None
    try:
        value = nesting.loads(text)
    except ValueError as exc:
        raise ValidationError(f"Target Input is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValidationError("Target Input for an ECS target must be a JSON object of task overrides.")
    return decode(TaskOverride, value, camel)
