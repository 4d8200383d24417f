"""CloudWatch metrics (GraniteServiceVersion20100801.*): GetMetricData, GetMetricStatistics, ListMetrics, PutMetricData.

boto3 speaks it in smithy-rpc-v2-cbor (api/protocols/cbor.py); JSON 1.0 with X-Amz-Target works too."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.metrics.aggregate import InvalidParameterValue
from cronbridge.metrics.service import MetricFilter, MetricsService
from cronbridge.model.metrics import Datapoint, MetricId, Sample, StatQuery, dimensions

Wire = dict[str, Any]
PAGE = 500


def _metrics(ctx: RequestContext) -> MetricsService:
    service: MetricsService = ctx.system.metrics
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
def _sample(datum: Wire, now: float) -> Sample:
    at = _instant(datum["Timestamp"]) if "Timestamp" in datum else now
    unit = datum.get("Unit", "None")
    if "StatisticValues" in datum:
        s = datum["StatisticValues"]
        return Sample(at, s["Sum"], s["SampleCount"], s["Minimum"], s["Maximum"], (), unit)
    if "Values" in datum:
        values, weights = datum["Values"], datum.get("Counts") or [1.0] * len(datum["Values"])
        if len(weights) != len(values):
            raise InvalidParameterValue("The parameters Values and Counts must be of the same size.")
        raw = tuple(v for v, c in zip(values, weights, strict=True) for _ in range(int(c)))
        return Sample(
            at,
            sum(v * c for v, c in zip(values, weights, strict=True)),
            float(sum(weights)),
            min(values),
            max(values),
            raw,
            unit,
        )
    if "Value" not in datum:
        raise InvalidParameterValue("One of the parameters Value, Values or StatisticValues must be specified.")
    value = float(datum["Value"])
    return Sample(at, value, 1.0, value, value, (value,), unit)


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
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
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


SERVICE = JsonService(
    target_prefix="GraniteServiceVersion20100801",
    model="cloudwatch",
    operations={
        "PutMetricData": put_metric_data,
        "GetMetricStatistics": get_metric_statistics,
        "GetMetricData": get_metric_data,
        "ListMetrics": list_metrics,
    },
    validation_code="InvalidParameterValue",
    json_version="1.0",
    query_compatible=True,
)
