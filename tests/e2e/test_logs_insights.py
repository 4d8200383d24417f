"""Metric filters and Logs Insights through the real server, with boto3."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

BASE_MS = 1_700_000_000_000


def seeded(server: Any, group: str = "/ecs/batch") -> Any:
    logs = server.client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="batch/app/1")
    now_ms = int(time.time() * 1000)
    events = [
        {"timestamp": now_ms - 600_000 + i * 1000, "message": ("ERROR boom" if i % 3 == 0 else f"INFO {i}")}
        for i in range(30)
    ]
    logs.put_log_events(logGroupName=group, logStreamName="batch/app/1", logEvents=events)
    return logs, now_ms


def wait_results(logs: Any, query_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = logs.get_query_results(queryId=query_id)
        if answer["status"] in ("Complete", "Failed", "Cancelled"):
            return answer
        time.sleep(0.1)
    raise AssertionError("the query did not finish")


def test_stats_count_by_bin_over_the_stored_events(cronbridge_server: Any) -> None:
    logs, now_ms = seeded(cronbridge_server)
    query_id = logs.start_query(
        logGroupName="/ecs/batch",
        startTime=now_ms // 1000 - 3600,
        endTime=now_ms // 1000,
        queryString="fields @timestamp, @message | filter @message like /ERROR/ | stats count() by bin(5m)",
    )["queryId"]
    answer = wait_results(logs, query_id)
    assert answer["status"] == "Complete"
    counts = [int(next(f["value"] for f in row if f["field"] == "count()")) for row in answer["results"]]
    assert sum(counts) == 10
    assert answer["statistics"]["recordsScanned"] == 30.0
    assert answer["statistics"]["recordsMatched"] == 10.0
    assert answer["statistics"]["bytesScanned"] > 0
    listed = logs.describe_queries(logGroupName="/ecs/batch")["queries"]
    assert any(q["queryId"] == query_id and q["status"] == "Complete" for q in listed)


def test_rows_carry_fields_and_ptr(cronbridge_server: Any) -> None:
    logs, now_ms = seeded(cronbridge_server)
    query_id = logs.start_query(
        logGroupNames=["/ecs/batch"],
        startTime=now_ms // 1000 - 3600,
        endTime=now_ms // 1000,
        queryString="fields @timestamp, @message, @logStream | filter @message like 'ERROR' | limit 2",
    )["queryId"]
    rows = wait_results(logs, query_id)["results"]
    assert len(rows) == 2
    fields = {f["field"]: f["value"] for f in rows[0]}
    assert fields["@message"] == "ERROR boom" and fields["@logStream"] == "batch/app/1" and "@ptr" in fields


def test_a_malformed_query_and_a_missing_group_are_refused(cronbridge_server: Any) -> None:
    logs, now_ms = seeded(cronbridge_server)
    with pytest.raises(ClientError) as malformed:
        logs.start_query(logGroupName="/ecs/batch", startTime=0, endTime=now_ms // 1000, queryString="fields a b")
    assert malformed.value.response["Error"]["Code"] == "MalformedQueryException"
    with pytest.raises(ClientError) as missing:
        logs.start_query(logGroupName="/nope", startTime=0, endTime=now_ms // 1000, queryString="fields @message")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_metric_filters_put_describe_test_delete(cronbridge_server: Any) -> None:
    logs, _ = seeded(cronbridge_server)
    logs.put_metric_filter(
        logGroupName="/ecs/batch",
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": "Batch", "metricValue": "1"}],
    )
    found = logs.describe_metric_filters(logGroupName="/ecs/batch")["metricFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in found] == [("errors", "ERROR")]
    assert (
        logs.describe_metric_filters(metricName="Errors", metricNamespace="Batch")["metricFilters"][0]["filterName"]
        == "errors"
    )
    tested = logs.test_metric_filter(filterPattern="[level, text]", logEventMessages=["ERROR boom", "one two three"])
    assert tested["matches"] == [
        {"eventNumber": 1, "eventMessage": "ERROR boom", "extractedValues": {"$level": "ERROR", "$text": "boom"}}
    ]
    logs.delete_metric_filter(logGroupName="/ecs/batch", filterName="errors")
    assert logs.describe_metric_filters(logGroupName="/ecs/batch")["metricFilters"] == []


def test_bad_paging_tokens_and_a_metric_alarm_without_its_periods_are_client_errors(cronbridge_server: Any) -> None:
    """Found by the fuzzer (`python -m bench fuzz`): these were 500s."""
    logs = cronbridge_server.client("logs")
    with pytest.raises(ClientError) as err:
        logs.describe_queries(nextToken="not-a-token")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    cloudwatch = cronbridge_server.client("cloudwatch")
    with pytest.raises(ClientError) as err:
        cloudwatch.describe_alarm_history(NextToken="not-a-token")
    assert err.value.response["Error"]["Code"] == "InvalidNextToken"
    with pytest.raises(ClientError) as err:
        cloudwatch.put_metric_alarm(AlarmName="a", MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                                    Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    assert err.value.response["Error"]["Code"] == "MissingParameter"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
