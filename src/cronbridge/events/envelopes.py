"""Events as EventBridge shapes them (PURE): PutEvents entries checked and wrapped, and the events AWS services emit."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cronbridge.model.ecs import Container, Task

MAX_REQUEST_BYTES = 256 * 1024  # "The total entry size must be less than 256KB"
TIME_BYTES = 14
ECS_TASK_STATE_CHANGE = "ECS Task State Change"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
SCHEDULED_EVENT = "Scheduled Event"


@dataclass(frozen=True)
class Entry:
    """One PutEvents entry, as the caller sent it."""

    source: str | None = None
    detail_type: str | None = None
    detail: str | None = None
    resources: tuple[str, ...] = ()
    time: float | None = None
    event_bus_name: str | None = None
    trace_header: str | None = None


def entry_size(entry: Entry) -> int:
    """AWS's PutEventsRequestEntry size: 14 for Time, then the UTF-8 bytes of Source, DetailType, Detail, Resources."""
    size = TIME_BYTES if entry.time is not None else 0
    for text in (entry.source, entry.detail_type, entry.detail, *entry.resources):
        size += len(text.encode()) if text else 0
    return size


def request_too_large(entries: Sequence[Entry]) -> bool:
    return sum(entry_size(e) for e in entries) > MAX_REQUEST_BYTES


def entry_problem(entry: Entry) -> tuple[str, str] | None:
    """An entry EventBridge refuses on its own (ErrorCode, ErrorMessage); the rest of the request goes on."""
    for field, value in (("Source", entry.source), ("DetailType", entry.detail_type), ("Detail", entry.detail)):
        if not value:
            return "InvalidArgument", f"Parameter {field} is not valid. Reason: {field} is a required argument."
    try:
        detail = json.loads(entry.detail or "")
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    return None


def event_time(instant: float) -> str:
    """The envelope's `time`: whole seconds, UTC."""
    return datetime.fromtimestamp(int(instant), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(instant: float | None) -> str | None:
    """ECS's instants in event details: `2016-12-06T16:41:05.702Z`."""
    if instant is None:
        return None
    moment = datetime.fromtimestamp(instant, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(round(instant * 1000)) % 1000:03d}Z"


def envelope(
    event_id: str,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    account: str,
    region: str,
    at: float,
    resources: Sequence[str] = (),
) -> dict[str, Any]:
    """The event every target and pattern sees, keys in EventBridge's order."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": event_time(at),
        "region": region,
        "resources": list(resources),
        "detail": dict(detail),
    }


def from_entry(entry: Entry, event_id: str, account: str, region: str, received: float) -> dict[str, Any]:
    """A checked PutEvents entry as an event (its Time when given, else when it was received)."""
    detail = json.loads(entry.detail or "{}")
    at = entry.time if entry.time is not None else received
    return envelope(event_id, entry.source or "", entry.detail_type or "", detail, account, region, at, entry.resources)


# events AWS services emit ---------------------------------------------------------------------------------


def ecs_task_state_change(task: Task, at: float, event_id: str, account: str, region: str) -> dict[str, Any]:
    """ECS's "ECS Task State Change" for the task as it was right after a transition."""
    return envelope(
        event_id, "aws.ecs", ECS_TASK_STATE_CHANGE, task_detail(task, at), account, region, at, [task.task_arn]
    )


def task_detail(task: Task, at: float) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "attachments": [_attachment(a) for a in task.attachments or []],
        "availabilityZone": task.availability_zone,
        "clusterArn": task.cluster_arn,
        "connectivity": "CONNECTED",
        "containers": [_container(c) for c in task.containers],
        "cpu": task.cpu,
        "createdAt": iso_millis(task.created_at),
        "desiredStatus": task.desired_status,
        "enableExecuteCommand": task.enable_execute_command,
        "group": task.group,
        "launchType": task.launch_type,
        "lastStatus": str(task.last_status),
        "memory": task.memory,
        "overrides": {"containerOverrides": [_override(o) for o in task.overrides.container_overrides]},
        "platformVersion": task.platform_version,
        "pullStartedAt": iso_millis(task.pull_started_at),
        "pullStoppedAt": iso_millis(task.pull_stopped_at),
        "startedAt": iso_millis(task.started_at),
        "startedBy": task.started_by,
        "stoppingAt": iso_millis(task.stopping_at),
        "stoppedAt": iso_millis(task.stopped_at),
        "executionStoppedAt": iso_millis(task.execution_stopped_at),
        "stopCode": str(task.stop_code) if task.stop_code else None,
        "stoppedReason": task.stopped_reason,
        "taskArn": task.task_arn,
        "taskDefinitionArn": task.task_definition_arn,
        "updatedAt": iso_millis(at),
        "version": task.version,
    }
    return {k: v for k, v in detail.items() if v is not None}


def _container(container: Container) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "containerArn": container.container_arn,
        "exitCode": container.exit_code,
        "lastStatus": container.last_status,
        "name": container.name,
        "image": container.image,
        "runtimeId": container.runtime_id,
        "taskArn": container.task_arn,
        "networkInterfaces": [],
        "cpu": container.cpu,
        "memory": container.memory,
        "memoryReservation": container.memory_reservation,
        "reason": container.reason,
    }
    return {k: v for k, v in shown.items() if v is not None}


def _attachment(attachment: Any) -> dict[str, Any]:
    details = [{"name": d.name, "value": d.value} for d in attachment.details or []]
    return {"id": attachment.id, "type": attachment.type, "status": attachment.status, "details": details}


def _override(override: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {"name": override.name}
    if override.command is not None:
        shown["command"] = override.command
    if override.environment is not None:
        shown["environment"] = [{"name": e.name, "value": e.value} for e in override.environment]
    return shown


@dataclass(frozen=True)
class AlarmState:
    """One side of an alarm's state change."""

    value: str
    reason: str
    reason_data: str
    timestamp: float


def alarm_state_change(
    alarm_arn: str,
    alarm_name: str,
    configuration: Mapping[str, Any],
    state: AlarmState,
    previous: AlarmState,
    event_id: str,
    account: str,
    region: str,
) -> dict[str, Any]:
    """CloudWatch's "CloudWatch Alarm State Change" (source aws.cloudwatch)."""
    detail = {
        "alarmName": alarm_name,
        "state": _alarm_state(state),
        "previousState": _alarm_state(previous),
        "configuration": dict(configuration),
    }
    return envelope(
        event_id, "aws.cloudwatch", ALARM_STATE_CHANGE, detail, account, region, state.timestamp, [alarm_arn]
    )


def _alarm_state(state: AlarmState) -> dict[str, Any]:
    moment = datetime.fromtimestamp(state.timestamp, UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(round(state.timestamp * 1000)) % 1000:03d}+0000"
    shown = {"value": state.value, "reason": state.reason, "timestamp": stamp}
    if state.reason_data:
        shown["reasonData"] = state.reason_data
    return shown


def alarm_configuration(
    description: str | None, namespace: str, metric: str, dimensions: Mapping[str, str], period: int, stat: str
) -> dict[str, Any]:
    """The alarm's `configuration` in its state-change event: one metric, as a metricStat."""
    metric_stat = {
        "metric": {"namespace": namespace, "name": metric, "dimensions": dict(dimensions)},
        "period": period,
        "stat": stat,
    }
    shown: dict[str, Any] = {"metrics": [{"id": "m1", "metricStat": metric_stat, "returnData": True}]}
    if description:
        shown["description"] = description
    return shown


def scheduled_event(rule_arn: str, at: float, event_id: str, account: str, region: str) -> dict[str, Any]:
    """What a scheduled rule sends: source aws.events, detail-type "Scheduled Event", the rule as the resource."""
    return envelope(event_id, "aws.events", SCHEDULED_EVENT, {}, account, region, at, [rule_arn])
