"""CloudWatch Logs over awsJson1.1 (Logs_20140328.*): wire shapes in and out, LogService between."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.errors import InvalidParameter
from cronbridge.logs.service import LogService
from cronbridge.model.logs import LogEvent, LogGroup, LogStream, Position, StreamOrder

Wire = dict[str, Any]
BAD_TOKEN = "The specified nextToken is invalid."


def _logs(ctx: RequestContext) -> LogService:
    service: LogService = ctx.system.logs
    return service


def _group_param(ctx: RequestContext, p: Wire) -> str:
    """logGroupName or logGroupIdentifier (a name or an ARN), exactly one of them."""
    name, identifier = p.get("logGroupName"), p.get("logGroupIdentifier")
    if name and identifier:
        raise InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if not (name or identifier):
        raise InvalidParameter("Should provide either name or ARN of the log group.")
    return str(name) if name else _logs(ctx).group_name(str(identifier))


def _arn_group(ctx: RequestContext, arn: str) -> str:
    if not arn.startswith("arn:"):
        raise InvalidParameter(f"Invalid resource ARN: {arn}")
    return _logs(ctx).group_name(arn)


def group_to_wire(logs: LogService, group: LogGroup) -> Wire:
    arn = logs.group_arn(group.name)
    wire: Wire = {
        "logGroupName": group.name, "creationTime": group.creation_time, "metricFilterCount": 0,
        "arn": arn + ":*", "logGroupArn": arn, "storedBytes": group.stored_bytes,
        "logGroupClass": group.log_group_class,
    }
    if group.retention_in_days is not None:
        wire["retentionInDays"] = group.retention_in_days
    if group.kms_key_id:
        wire["kmsKeyId"] = group.kms_key_id
    return wire


def stream_to_wire(logs: LogService, stream: LogStream) -> Wire:
    wire: Wire = {
        "logStreamName": stream.name, "creationTime": stream.creation_time,
        "arn": logs.stream_arn(stream.group_name, stream.name), "storedBytes": stream.stored_bytes,
    }
    optional = {
        "firstEventTimestamp": stream.first_event_timestamp,
        "lastEventTimestamp": stream.last_event_timestamp,
        "lastIngestionTime": stream.last_ingestion_time,
    }
    wire.update({k: v for k, v in optional.items() if v is not None})
    return wire


def _event_to_wire(event: LogEvent) -> Wire:
    return {
        "timestamp": event.timestamp,
        "message": event.message,
        "ingestionTime": event.ingestion_time,
    }


def _paged(items: list[Wire], key: str, token: str | None) -> Wire:
    out: Wire = {key: items}
    if token:
        out["nextToken"] = token
    return out


def create_log_group(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).create_group(
        p["logGroupName"], p.get("tags"), p.get("kmsKeyId"), p.get("logGroupClass")
    )
    return {}


def delete_log_group(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).delete_group(p["logGroupName"])
    return {}


def describe_log_groups(ctx: RequestContext, p: Wire) -> Wire:
    logs = _logs(ctx)
    if p.get("logGroupNamePrefix") and p.get("logGroupNamePattern"):
        raise InvalidParameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
        )
    groups, token = logs.describe_groups(
        p.get("logGroupNamePrefix") or "", p.get("logGroupNamePattern") or "",
        p.get("limit") or 50, p.get("nextToken"),
    )
    return _paged([group_to_wire(logs, g) for g in groups], "logGroups", token)


def create_log_stream(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).create_stream(p["logGroupName"], p["logStreamName"])
    return {}


def delete_log_stream(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).delete_stream(p["logGroupName"], p["logStreamName"])
    return {}


def describe_log_streams(ctx: RequestContext, p: Wire) -> Wire:
    logs = _logs(ctx)
    streams, token = logs.describe_streams(
        _group_param(ctx, p), p.get("logStreamNamePrefix") or "",
        StreamOrder(p.get("orderBy") or StreamOrder.NAME.value), bool(p.get("descending")),
        p.get("limit") or 50, p.get("nextToken"),
    )
    return _paged([stream_to_wire(logs, s) for s in streams], "logStreams", token)


def put_log_events(ctx: RequestContext, p: Wire) -> Wire:
    events = [(e["timestamp"], e["message"]) for e in p["logEvents"]]
    rejected, sequence = _logs(ctx).put_events(p["logGroupName"], p["logStreamName"], events)
    out: Wire = {"nextSequenceToken": sequence}
    if rejected.any():
        info = {
            "tooNewLogEventStartIndex": rejected.too_new_start,
            "tooOldLogEventEndIndex": rejected.too_old_end,
            "expiredLogEventEndIndex": rejected.expired_end,
        }
        out["rejectedLogEventsInfo"] = {k: v for k, v in info.items() if v is not None}
    return out


def _read_token(token: str | None) -> tuple[Position | None, Position | None]:
    """`f/<n>` reads forward after a position, `b/<n>` backward before one."""
    if token is None:
        return None, None
    direction, _, number = token.partition("/")
    if direction not in ("f", "b") or not number.isdigit():
        raise InvalidParameter(BAD_TOKEN)
    position = Position.from_number(int(number))
    return (position, None) if direction == "f" else (None, position)


def get_log_events(ctx: RequestContext, p: Wire) -> Wire:
    after, before = _read_token(p.get("nextToken"))
    page = _logs(ctx).get_events(
        _group_param(ctx, p), p["logStreamName"], p.get("startTime"), p.get("endTime"),
        after, before, p.get("limit"), bool(p.get("startFromHead")),
    )
    return {
        "events": [_event_to_wire(e) for e in page.events],
        "nextForwardToken": f"f/{_number(page.forward)}",
        "nextBackwardToken": f"b/{_number(page.backward)}",
    }


def _number(position: Position) -> str:
    return f"{position.number():056d}"


def _filter_token(token: str | None) -> Position | None:
    if token is None:
        return None
    if not token.isdigit():
        raise InvalidParameter(BAD_TOKEN)
    return Position.from_number(int(token))


def filter_log_events(ctx: RequestContext, p: Wire) -> Wire:
    page = _logs(ctx).filter_events(
        _group_param(ctx, p), p.get("logStreamNames"), p.get("logStreamNamePrefix"),
        p.get("startTime"), p.get("endTime"), p.get("filterPattern"), p.get("limit"),
        _filter_token(p.get("nextToken")), p.get("interleaved", True),
    )
    events = [
        {**_event_to_wire(e), "logStreamName": e.stream_name, "eventId": _number(e.position)}
        for e in page.events
    ]
    out: Wire = {
        "events": events,
        "searchedLogStreams": [{"logStreamName": s, "searchedCompletely": page.next is None}
                               for s in page.streams],
    }
    if page.next is not None:
        out["nextToken"] = _number(page.next)
    return out


def put_retention_policy(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).put_retention(p["logGroupName"], p["retentionInDays"])
    return {}


def delete_retention_policy(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).delete_retention(p["logGroupName"])
    return {}


def tag_resource(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).tag(_arn_group(ctx, p["resourceArn"]), p["tags"])
    return {}


def untag_resource(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).untag(_arn_group(ctx, p["resourceArn"]), p["tagKeys"])
    return {}


def list_tags_for_resource(ctx: RequestContext, p: Wire) -> Wire:
    return {"tags": _logs(ctx).tags(_arn_group(ctx, p["resourceArn"]))}


def tag_log_group(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).tag(p["logGroupName"], p["tags"])
    return {}


def untag_log_group(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).untag(p["logGroupName"], p["tags"])
    return {}


def list_tags_log_group(ctx: RequestContext, p: Wire) -> Wire:
    return {"tags": _logs(ctx).tags(p["logGroupName"])}


SERVICE = JsonService(
    target_prefix="Logs_20140328",
    model="logs",
    operations={
        "CreateLogGroup": create_log_group,
        "DeleteLogGroup": delete_log_group,
        "DescribeLogGroups": describe_log_groups,
        "CreateLogStream": create_log_stream,
        "DeleteLogStream": delete_log_stream,
        "DescribeLogStreams": describe_log_streams,
        "PutLogEvents": put_log_events,
        "GetLogEvents": get_log_events,
        "FilterLogEvents": filter_log_events,
        "PutRetentionPolicy": put_retention_policy,
        "DeleteRetentionPolicy": delete_retention_policy,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
        "TagLogGroup": tag_log_group,
        "UntagLogGroup": untag_log_group,
        "ListTagsLogGroup": list_tags_log_group,
    },
    validation_code="InvalidParameterException",
)
