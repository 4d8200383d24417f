"""EventBridge Scheduler over rest-json (signing name `scheduler`): schedules, schedule groups and their tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.rest_json import RestJsonService
from cronbridge.codec import decode, encode, pascal
from cronbridge.errors import ValidationError
from cronbridge.model.scheduler import Schedule, ScheduleGroup
from cronbridge.schedules.service import DEFAULT_GROUP

_INTERNAL = ("ScheduleSetAt", "EnabledAt", "ClientToken")


def schedule_from_wire(p: dict[str, Any]) -> Schedule:
    wire = {**p, "GroupName": p.get("GroupName") or DEFAULT_GROUP}
    for key in ("StartDate", "EndDate"):
        if key in wire and wire[key] is not None:
            wire[key] = _instant(wire[key], key)
    for key in _INTERNAL[:2]:
        wire.pop(key, None)
    return decode(Schedule, wire, pascal)


def _instant(value: Any, name: str) -> float:
    """A timestamp member: epoch seconds (what boto3 sends) or ISO 8601."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise ValidationError(f"Value '{value}' at '{name}' is not a valid timestamp.") from exc


def schedule_to_wire(schedule: Schedule) -> dict[str, Any]:
    wire = encode(schedule, pascal)
    for key in _INTERNAL:
        wire.pop(key, None)
    return wire


def summary(schedule: Schedule) -> dict[str, Any]:
    return {
        "Arn": schedule.arn,
        "Name": schedule.name,
        "GroupName": schedule.group_name,
        "State": schedule.state,
        "CreationDate": schedule.creation_date,
        "LastModificationDate": schedule.last_modification_date,
        "Target": {"Arn": schedule.target.arn},
    }


def group_to_wire(group: ScheduleGroup) -> dict[str, Any]:
    return {
        "Arn": group.arn,
        "Name": group.name,
        "State": group.state,
        "CreationDate": group.creation_date,
        "LastModificationDate": group.last_modification_date,
    }


def create_schedule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"ScheduleArn": ctx.system.schedules.create(ctx.scope, schedule_from_wire(p)).arn}


def update_schedule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"ScheduleArn": ctx.system.schedules.update(ctx.scope, schedule_from_wire(p)).arn}


def get_schedule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return schedule_to_wire(ctx.system.schedules.get(ctx.scope, p.get("GroupName"), p["Name"]))


def delete_schedule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.schedules.delete(ctx.scope, p.get("GroupName"), p["Name"])
    return {}


def list_schedules(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    page, token = ctx.system.schedules.page(
        ctx.scope,
        group_name=p.get("GroupName"),
        prefix=p.get("NamePrefix") or "",
        state=p.get("State"),
        after=p.get("NextToken") or "",
        limit=p.get("MaxResults") or 100,
    )
    out: dict[str, Any] = {"Schedules": [summary(s) for s in page]}
    if token:
        out["NextToken"] = token
    return out


def create_schedule_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    group = ctx.system.schedules.create_group(
        ctx.scope, p["Name"], p.get("Tags") or [], p.get("ClientToken")
    )
    return {"ScheduleGroupArn": group.arn}


def get_schedule_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return group_to_wire(ctx.system.schedules.group(ctx.scope, p["Name"]))


def delete_schedule_group(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.schedules.delete_group(ctx.scope, p["Name"])
    return {}


def list_schedule_groups(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    page, token = ctx.system.schedules.list_groups(
        ctx.scope,
        prefix=p.get("NamePrefix") or "",
        after=p.get("NextToken") or "",
        limit=p.get("MaxResults") or 100,
    )
    out: dict[str, Any] = {"ScheduleGroups": [group_to_wire(g) for g in page]}
    if token:
        out["NextToken"] = token
    return out


def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.schedules.tag(ctx.scope, p["ResourceArn"], p["Tags"])
    return {}


def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.schedules.untag(ctx.scope, p["ResourceArn"], p["TagKeys"])
    return {}


def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": ctx.system.schedules.tags(ctx.scope, p["ResourceArn"])}


SERVICE = RestJsonService(
    model="scheduler",
    signing_name="scheduler",
    operations={
        "CreateSchedule": create_schedule,
        "GetSchedule": get_schedule,
        "UpdateSchedule": update_schedule,
        "DeleteSchedule": delete_schedule,
        "ListSchedules": list_schedules,
        "CreateScheduleGroup": create_schedule_group,
        "GetScheduleGroup": get_schedule_group,
        "DeleteScheduleGroup": delete_schedule_group,
        "ListScheduleGroups": list_schedule_groups,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    },
)
