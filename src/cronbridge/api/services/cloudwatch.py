"""CloudWatch (GraniteServiceVersion20100801.*): metrics (GetMetricData, GetMetricStatistics, ListMetrics,
PutMetricData) and alarms (PutMetricAlarm, DescribeAlarms, SetAlarmState, DescribeAlarmHistory and the rest).

boto3 speaks it in smithy-rpc-v2-cbor (api/protocols/cbor.py); JSON 1.0 with X-Amz-Target works too."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime
from typing import Any

from cronbridge import nesting
from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.metrics.aggregate import InvalidNextToken, InvalidParameterValue, MissingParameter
from cronbridge.metrics.alarms import Alarm
from cronbridge.metrics.service import MetricFilter, MetricsService
from cronbridge.model.metrics import Datapoint, MetricId, Sample, StatQuery, dimensions

Wire = dict[str, Any]
PAGE = 500


def _metrics(ctx: RequestContext) -> MetricsService:
    service: MetricsService = ctx.system.metrics.at(ctx.scope)  # the request's account and Region
    return service


def _instant(value: Any) -> float:
    """A wire timestamp (epoch seconds, a datetime from CBOR, or ISO 8601 text) as epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise InvalidParameterValue(f"Invalid timestamp: {value}") from exc


def _stamp(instant: float) -> datetime:
    return datetime.fromtimestamp(instant, UTC)


def metric_from_wire(p: Wire) -> MetricId:
    dims = dimensions([(d["Name"], d["Value"]) for d in p.get("Dimensions", [])])
    return MetricId(p.get("Namespace", ""), p.get("MetricName", ""), dims)


def metric_to_wire(metric: MetricId) -> Wire:
    return {
        "Namespace": metric.namespace,
        "MetricName": metric.name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dims],
    }


# PutMetricData ------------------------------------------------------------------------------------------
MAX_VALUES = 150  # AWS: up to 150 distinct values (and counts) per datum
MAX_RAW = 10_000  # values kept per sample for percentiles: larger counts are scaled down, their distribution kept
LIMIT = 2.0**360  # AWS rejects values beyond +-2^360, and NaN and the infinities


def _number(value: Any, where: str) -> float:
    """A datum's number as CloudWatch takes it: finite, within +-2^360."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or abs(value) > LIMIT:
        raise InvalidParameterValue(f"The value {value!r} for parameter {where} is invalid.")
    return float(value)


def _sample(datum: Wire, now: float) -> Sample:
    at = _instant(datum["Timestamp"]) if "Timestamp" in datum else now
    unit = datum.get("Unit", "None")
    if "StatisticValues" in datum:
        s = {k: _number(v, f"StatisticValues.{k}") for k, v in datum["StatisticValues"].items()}
        return Sample(at, s["Sum"], s["SampleCount"], s["Minimum"], s["Maximum"], (), unit)
    if datum.get("Values"):
        return _distribution(datum, at, unit)
    if "Value" not in datum:
        raise InvalidParameterValue("One of the parameters Value, Values or StatisticValues must be specified.")
    value = _number(datum["Value"], "Value")
    return Sample(at, value, 1.0, value, value, (value,), unit)


def _distribution(datum: Wire, at: float, unit: str) -> Sample:
    """A datum of Values with their Counts (1 each by default)."""
    values = [_number(v, "Values") for v in datum["Values"]]
    weights = [_number(c, "Counts") for c in datum.get("Counts") or [1.0] * len(values)]
    if len(weights) != len(values):
        raise InvalidParameterValue("The parameters Values and Counts must be of the same size.")
    if len(values) > MAX_VALUES or min(weights) < 0:
        raise InvalidParameterValue(f"Values and Counts take at most {MAX_VALUES} items; counts are not negative.")
    total = sum(weights)
    scale = min(1.0, MAX_RAW / total) if total else 1.0
    raw = tuple(v for v, c in zip(values, weights, strict=True) for _ in range(int(c * scale)))
    spent = sum(v * c for v, c in zip(values, weights, strict=True))
    return Sample(at, spent, float(total), min(values), max(values), raw, unit)


def put_metric_data(ctx: RequestContext, p: Wire) -> Wire:
    namespace = p["Namespace"]
    now = ctx.system.clock.now()
    entries = [
        (metric_from_wire({"Namespace": namespace, **datum}), _sample(datum, now)) for datum in p.get("MetricData", [])
    ]
    _metrics(ctx).put(namespace, entries)
    return {}


# GetMetricStatistics -------------------------------------------------------------------------------------
def _datapoint_to_wire(point: Datapoint, stats: list[str]) -> Wire:
    names = {
        "SampleCount": "SampleCount",
        "Average": "Average",
        "Sum": "Sum",
        "Minimum": "Minimum",
        "Maximum": "Maximum",
    }
    wire: Wire = {"Timestamp": _stamp(point.timestamp), "Unit": point.unit}
    for stat in stats:
        if stat in names:
            wire[names[stat]] = point.statistic(stat)
    extended = {s: point.extended[s] for s in stats if s not in names and s in point.extended}
    if extended:
        wire["ExtendedStatistics"] = extended
    return wire


def get_metric_statistics(ctx: RequestContext, p: Wire) -> Wire:
    stats = list(p.get("Statistics", [])) + list(p.get("ExtendedStatistics", []))
    if not stats:
        raise InvalidParameterValue("Must specify either Statistics or ExtendedStatistics.")
    query = StatQuery(
        metric_from_wire(p),
        _instant(p["StartTime"]),
        _instant(p["EndTime"]),
        int(p["Period"]),
        tuple(stats),
        p.get("Unit"),
    )
    points = _metrics(ctx).statistics(query)
    return {"Label": p["MetricName"], "Datapoints": [_datapoint_to_wire(d, stats) for d in points]}


# GetMetricData -------------------------------------------------------------------------------------------
def _one_query(ctx: RequestContext, q: Wire, start: float, end: float, newest_first: bool) -> Wire | None:
    if q.get("ReturnData") is False:
        return None
    if "MetricStat" not in q:
        raise InvalidParameterValue(
            f"The MetricDataQuery {q['Id']} uses Expression, which cronbridge does not support; use MetricStat."
        )
    stat = q["MetricStat"]
    metric = metric_from_wire(stat["Metric"])
    query = StatQuery(metric, start, end, int(stat["Period"]), (stat["Stat"],), stat.get("Unit"))
    points = _metrics(ctx).statistics(query)
    if newest_first:
        points.reverse()
    values = [p.statistic(stat["Stat"]) for p in points]
    return {
        "Id": q["Id"],
        "Label": q.get("Label", metric.name),
        "StatusCode": "Complete",
        "Timestamps": [_stamp(p.timestamp) for p, v in zip(points, values, strict=True) if v is not None],
        "Values": [v for v in values if v is not None],
    }


def get_metric_data(ctx: RequestContext, p: Wire) -> Wire:
    start, end = _instant(p["StartTime"]), _instant(p["EndTime"])
    ids = [q["Id"] for q in p["MetricDataQueries"]]
    if len(set(ids)) != len(ids):
        raise InvalidParameterValue("The values for parameter Id in MetricDataQueries must be unique.")
    newest_first = p.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    results = [_one_query(ctx, q, start, end, newest_first) for q in p["MetricDataQueries"]]
    return {"MetricDataResults": [r for r in results if r is not None], "Messages": []}


# ListMetrics ---------------------------------------------------------------------------------------------
def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(nesting.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidParameterValue("The service cannot process the NextToken.") from exc


def list_metrics(ctx: RequestContext, p: Wire) -> Wire:
    flt = MetricFilter(
        p.get("Namespace"), p.get("MetricName"), tuple((d["Name"], d.get("Value")) for d in p.get("Dimensions", []))
    )
    found = _metrics(ctx).list_metrics(flt)
    offset = _offset(p.get("NextToken"))
    page = found[offset : offset + PAGE]
    out: Wire = {"Metrics": [metric_to_wire(m) for m in page]}
    if offset + PAGE < len(found):
        out["NextToken"] = _token(offset + PAGE)
    return out


# alarms ------------------------------------------------------------------------------------------------------
def put_metric_alarm(ctx: RequestContext, p: Wire) -> Wire:
    for name in ("EvaluationPeriods", "ComparisonOperator"):  # optional in the model for PromQL alarms only
        if p.get(name) is None:
            raise MissingParameter(f"The parameter {name} is required.")
    alarm = Alarm(
        alarm_name=p["AlarmName"],
        alarm_description=p.get("AlarmDescription"),
        namespace=p.get("Namespace", ""),
        metric_name=p.get("MetricName", ""),
        dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions") or []],
        statistic=p.get("Statistic"),
        extended_statistic=p.get("ExtendedStatistic"),
        period=int(p.get("Period") or 0),
        evaluation_periods=int(p["EvaluationPeriods"]),
        datapoints_to_alarm=p.get("DatapointsToAlarm"),
        threshold=float(p.get("Threshold") or 0.0),
        comparison_operator=p["ComparisonOperator"],
        treat_missing_data=p.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=p.get("EvaluateLowSampleCountPercentile"),
        unit=p.get("Unit"),
        actions_enabled=p.get("ActionsEnabled", True),
        alarm_actions=list(p.get("AlarmActions") or []),
        ok_actions=list(p.get("OKActions") or []),
        insufficient_data_actions=list(p.get("InsufficientDataActions") or []),
        tags=p.get("Tags"),
    )
    if p.get("Metrics"):
        raise InvalidParameterValue("Alarms on metric math (Metrics) are not supported by cronbridge.")
    ctx.system.alarms.put(ctx.scope, alarm)
    return {}


def alarm_to_wire(alarm: Alarm) -> Wire:
    wire: Wire = {
        "AlarmName": alarm.alarm_name,
        "AlarmArn": alarm.alarm_arn,
        "AlarmConfigurationUpdatedTimestamp": _stamp(alarm.configuration_updated),
        "ActionsEnabled": alarm.actions_enabled,
        "OKActions": alarm.ok_actions,
        "AlarmActions": alarm.alarm_actions,
        "InsufficientDataActions": alarm.insufficient_data_actions,
        "StateValue": alarm.state_value,
        "StateReason": alarm.state_reason,
        "StateUpdatedTimestamp": _stamp(alarm.state_updated),
        "StateTransitionedTimestamp": _stamp(alarm.state_transitioned),
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "Dimensions": alarm.dimensions,
        "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "Threshold": alarm.threshold,
        "ComparisonOperator": alarm.comparison_operator,
    }
    optional = {
        "AlarmDescription": alarm.alarm_description,
        "StateReasonData": alarm.state_reason_data or None,
        "Statistic": alarm.statistic,
        "ExtendedStatistic": alarm.extended_statistic,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "TreatMissingData": alarm.treat_missing_data,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        "Unit": alarm.unit,
    }
    wire.update({k: v for k, v in optional.items() if v is not None})
    return wire


def describe_alarms(ctx: RequestContext, p: Wire) -> Wire:
    found = ctx.system.alarms.describe(
        ctx.scope,
        p.get("AlarmNames") or [], p.get("AlarmNamePrefix") or "", p.get("StateValue"), p.get("ActionPrefix") or ""
    )
    kinds = p.get("AlarmTypes") or ["MetricAlarm"]
    offset, limit = _offset(p.get("NextToken")), int(p.get("MaxRecords") or 50)
    page = found[offset : offset + limit] if "MetricAlarm" in kinds else []
    out: Wire = {"MetricAlarms": [alarm_to_wire(a) for a in page], "CompositeAlarms": []}
    if "MetricAlarm" in kinds and offset + limit < len(found):
        out["NextToken"] = _token(offset + limit)
    return out


def describe_alarms_for_metric(ctx: RequestContext, p: Wire) -> Wire:
    found = ctx.system.alarms.for_metric(
        ctx.scope, metric_from_wire(p), p.get("Statistic"), p.get("ExtendedStatistic"), p.get("Period")
    )
    return {"MetricAlarms": [alarm_to_wire(a) for a in found]}


def delete_alarms(ctx: RequestContext, p: Wire) -> Wire:
    ctx.system.alarms.delete(ctx.scope, p.get("AlarmNames") or [])
    return {}


def set_alarm_state(ctx: RequestContext, p: Wire) -> Wire:
    ctx.system.alarms.set_state(
        ctx.scope, p["AlarmName"], p["StateValue"], p["StateReason"], p.get("StateReasonData")
    )
    return {}


def describe_alarm_history(ctx: RequestContext, p: Wire) -> Wire:
    start = _instant(p["StartDate"]) if p.get("StartDate") else 0.0
    end = _instant(p["EndDate"]) if p.get("EndDate") else float("inf")
    limit = int(p.get("MaxRecords") or 100)
    try:
        before = int(p["NextToken"]) if p.get("NextToken") else None
    except ValueError as exc:
        raise InvalidNextToken("The service cannot process the NextToken.") from exc
    items = ctx.system.alarms.history.items(
        ctx.scope, p.get("AlarmName"), p.get("HistoryItemType"), start, end, limit + 1, before
    )
    if p.get("ScanBy") == "TimestampAscending":
        items = list(reversed(items))
    out: Wire = {
        "AlarmHistoryItems": [
            {
                "AlarmName": i.alarm_name,
                "AlarmType": "MetricAlarm",
                "Timestamp": _stamp(i.at),
                "HistoryItemType": i.kind,
                "HistorySummary": i.summary,
                "HistoryData": i.data,
            }
            for _, i in items[:limit]
        ]
    }
    if len(items) > limit:
        out["NextToken"] = str(items[limit - 1][0])
    return out


def enable_alarm_actions(ctx: RequestContext, p: Wire) -> Wire:
    ctx.system.alarms.set_actions(ctx.scope, p.get("AlarmNames") or [], True)
    return {}


def disable_alarm_actions(ctx: RequestContext, p: Wire) -> Wire:
    ctx.system.alarms.set_actions(ctx.scope, p.get("AlarmNames") or [], False)
    return {}


SERVICE = JsonService(
    target_prefix="GraniteServiceVersion20100801",
    model="cloudwatch",
    operations={
        "PutMetricData": put_metric_data,
        "GetMetricStatistics": get_metric_statistics,
        "GetMetricData": get_metric_data,
        "ListMetrics": list_metrics,
        "PutMetricAlarm": put_metric_alarm,
        "DescribeAlarms": describe_alarms,
        "DescribeAlarmsForMetric": describe_alarms_for_metric,
        "DeleteAlarms": delete_alarms,
        "SetAlarmState": set_alarm_state,
        "DescribeAlarmHistory": describe_alarm_history,
        "EnableAlarmActions": enable_alarm_actions,
        "DisableAlarmActions": disable_alarm_actions,
    },
    validation_code="InvalidParameterValue",
    json_version="1.0",
    query_compatible=True,
)
