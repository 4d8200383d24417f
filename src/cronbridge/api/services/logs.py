"""CloudWatch Logs over awsJson1.1 (Logs_20140328.*): wire shapes in and out, LogService between."""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.errors import InvalidParameter
from cronbridge.logs import metric_filter
from cronbridge.logs.service import LogService
from cronbridge.model.logs import LogEvent, LogGroup, LogStream, Position, StreamOrder

Wire = dict[str, Any]
BAD_TOKEN = "The specified nextToken is invalid."
IDENTIFIER = re.compile(r"[\w#+=/:,.@-]*")  # the model's LogGroupIdentifier pattern (no `:*`, unlike `arn`)
_EVENT = itemgetter("timestamp", "message")


def _logs(ctx: RequestContext) -> LogService:
    service: LogService = ctx.system.logs.at(ctx.scope)  # the request's account and Region
    return service


def _group_param(ctx: RequestContext, p: Wire) -> str:
    """logGroupName or logGroupIdentifier (a name or an ARN), exactly one of them."""
    name, identifier = p.get("logGroupName"), p.get("logGroupIdentifier")
    if name and identifier:
        raise InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if not (name or identifier):
        raise InvalidParameter("Should provide either name or ARN of the log group.")
    if identifier and not IDENTIFIER.fullmatch(str(identifier)):  # a name or an ARN without `:*`, as AWS says
        raise InvalidParameter(
            "1 validation error detected: Value at 'logGroupIdentifier' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {IDENTIFIER.pattern}"
        )
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
    events = list(map(_EVENT, p["logEvents"]))  # (timestamp, message) tuples, C-level: no Python step per event
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


# metric filters ------------------------------------------------------------------------------------------------


def put_metric_filter(ctx: RequestContext, p: Wire) -> Wire:
    group = str(p["logGroupName"])
    _logs(ctx).get_group(group)
    _logs(ctx).filters.put(
        group, p["filterName"], p.get("filterPattern") or "", p["metricTransformations"], _logs(ctx).now_ms()
    )
    return {}


def describe_metric_filters(ctx: RequestContext, p: Wire) -> Wire:
    group = p.get("logGroupName")
    if group:
        _logs(ctx).get_group(str(group))
    found = _logs(ctx).filters.describe(group, p.get("filterNamePrefix") or "")
    name, namespace = p.get("metricName"), p.get("metricNamespace")
    if name or namespace:
        found = [f for f in found if any(
            (not name or t.get("metricName") == name) and (not namespace or t.get("metricNamespace") == namespace)
            for t in f.metric_transformations
        )]
    after = p.get("nextToken") or ""
    found = [f for f in found if f"{f.log_group_name}\x00{f.filter_name}" > after]
    limit = int(p.get("limit") or 50)
    out: Wire = {"metricFilters": [_filter_to_wire(f) for f in found[:limit]]}
    if len(found) > limit:
        last = found[limit - 1]
        out["nextToken"] = f"{last.log_group_name}\x00{last.filter_name}"
    return out


def _filter_to_wire(f: Any) -> Wire:
    return {"filterName": f.filter_name, "logGroupName": f.log_group_name, "filterPattern": f.filter_pattern,
            "metricTransformations": f.metric_transformations, "creationTime": f.creation_time}


def delete_metric_filter(ctx: RequestContext, p: Wire) -> Wire:
    _logs(ctx).filters.delete(str(p["logGroupName"]), str(p["filterName"]))
    return {}


def test_metric_filter(ctx: RequestContext, p: Wire) -> Wire:
    return {"matches": metric_filter.test_metric_filter(p.get("filterPattern") or "", p["logEventMessages"])}


# Logs Insights --------------------------------------------------------------------------------------------------


def start_query(ctx: RequestContext, p: Wire) -> Wire:
    names = [p["logGroupName"]] if p.get("logGroupName") else list(p.get("logGroupNames") or [])
    names += [_logs(ctx).group_name(str(i)) for i in p.get("logGroupIdentifiers") or []]
    if sum(bool(x) for x in (p.get("logGroupName"), p.get("logGroupNames"), p.get("logGroupIdentifiers"))) > 1:
        raise InvalidParameter("Specify only one of logGroupName, logGroupNames or logGroupIdentifiers.")
    limit = p.get("limit")
    query_id = ctx.system.insights.start(
        ctx.scope, names, int(p["startTime"]), int(p["endTime"]), str(p["queryString"]),
        int(limit) if limit is not None else None,
    )
    return {"queryId": query_id}


def get_query_results(ctx: RequestContext, p: Wire) -> Wire:
    answer = ctx.system.insights.results(ctx.scope, str(p["queryId"]))
    return {"results": answer.results, "statistics": answer.statistics, "status": answer.status}


def stop_query(ctx: RequestContext, p: Wire) -> Wire:
    return {"success": ctx.system.insights.stop(ctx.scope, str(p["queryId"]))}


def describe_queries(ctx: RequestContext, p: Wire) -> Wire:
    limit = int(p.get("maxResults") or 1000)
    try:
        before = float(p["nextToken"]) if p.get("nextToken") else None
    except ValueError as exc:
        raise InvalidParameter("The specified nextToken is not valid.") from exc
    found = ctx.system.insights.describe(ctx.scope, p.get("logGroupName"), p.get("status"), limit + 1, before)
    out: Wire = {"queries": [
        {"queryId": q.id, "queryString": q.query, "status": q.status, "createTime": int(q.created * 1000),
         "logGroupName": q.groups[0] if q.groups else ""}
        for q in found[:limit]
    ]}
    if len(found) > limit:
        out["nextToken"] = repr(found[limit - 1].created)
    return out


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
        "PutMetricFilter": put_metric_filter,
        "DescribeMetricFilters": describe_metric_filters,
        "DeleteMetricFilter": delete_metric_filter,
        "TestMetricFilter": test_metric_filter,
        "StartQuery": start_query,
        "GetQueryResults": get_query_results,
        "StopQuery": stop_query,
        "DescribeQueries": describe_queries,
    },
    validation_code="InvalidParameterException",
)
