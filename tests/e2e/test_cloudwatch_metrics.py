"""CloudWatch metrics through boto3 (smithy-rpc-v2-cbor) and the AWS CLI: custom metrics and the rules' counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.scheduling import T0, invocations, put_batch_rule


def stamp(instant: float) -> datetime:
    return datetime.fromtimestamp(instant, UTC)


def test_put_metric_data_is_read_back_by_statistics_data_and_list(cronbridge_server: Any) -> None:
    cw = cronbridge_server.client("cloudwatch")
    now = datetime.now(UTC).replace(second=0, microsecond=0).timestamp()
    cw.put_metric_data(
        Namespace="Batch",
        MetricData=[
            {
                "MetricName": "Rows",
                "Dimensions": [{"Name": "Job", "Value": "hello"}],
                "Timestamp": stamp(now + i),
                "Value": float(v),
                "Unit": "Count",
            }
            for i, v in enumerate([1, 2, 3, 10])
        ],
    )
    dims = [{"Name": "Job", "Value": "hello"}]
    stats = cw.get_metric_statistics(
        Namespace="Batch",
        MetricName="Rows",
        Dimensions=dims,
        StartTime=stamp(now - 60),
        EndTime=stamp(now + 60),
        Period=60,
        Statistics=["Sum", "Average", "Maximum", "SampleCount"],
        ExtendedStatistics=["p50"],
    )
    [point] = stats["Datapoints"]
    assert (point["Sum"], point["Average"], point["Maximum"], point["SampleCount"]) == (16.0, 4.0, 10.0, 4.0)
    assert point["ExtendedStatistics"] == {"p50": 2.0}
    assert point["Unit"] == "Count"

    data = cw.get_metric_data(
        StartTime=stamp(now - 60),
        EndTime=stamp(now + 60),
        MetricDataQueries=[
            {
                "Id": "rows",
                "MetricStat": {
                    "Metric": {"Namespace": "Batch", "MetricName": "Rows", "Dimensions": dims},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
    )
    [result] = data["MetricDataResults"]
    assert result["Values"] == [16.0] and result["StatusCode"] == "Complete"
    assert result["Timestamps"][0].timestamp() == now - 60 + 60 * ((60) // 60)  # the period that holds the samples

    listed = cw.list_metrics(Namespace="Batch")["Metrics"]
    assert listed == [{"Namespace": "Batch", "MetricName": "Rows", "Dimensions": dims}]


def test_rule_firings_appear_as_aws_events_metrics(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    put_batch_rule(server, "counted", "rate(1 minute)")
    server.advance_clock(60)
    invocations(server, "counted", 1)
    server.advance_clock(60)
    invocations(server, "counted", 2)
    cw = server.client("cloudwatch")
    names = {
        m["MetricName"]
        for m in cw.list_metrics(Namespace="AWS/Events", Dimensions=[{"Name": "RuleName", "Value": "counted"}])[
            "Metrics"
        ]
    }
    assert {"Invocations", "FailedInvocations", "TriggeredRules", "InvocationsSentToDLQ"} <= names
    for metric, expected in (("Invocations", 2.0), ("TriggeredRules", 2.0)):
        out = cw.get_metric_statistics(
            Namespace="AWS/Events",
            MetricName=metric,
            Dimensions=[{"Name": "RuleName", "Value": "counted"}],
            StartTime=stamp(T0),
            EndTime=stamp(T0 + 600),
            Period=300,
            Statistics=["Sum"],
        )
        assert sum(p["Sum"] for p in out["Datapoints"]) == expected, metric
    failed = cw.get_metric_statistics(
        Namespace="AWS/Events",
        MetricName="FailedInvocations",
        Dimensions=[{"Name": "RuleName", "Value": "counted"}],
        StartTime=stamp(T0),
        EndTime=stamp(T0 + 600),
        Period=300,
        Statistics=["Sum"],
    )
    assert failed["Datapoints"] == []


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ({"Period": 7}, "InvalidParameterValue"),
        ({"Statistics": ["Median"]}, "InvalidParameterValue"),
        ({"StartTime": stamp(T0 + 100), "EndTime": stamp(T0)}, "InvalidParameterValue"),
    ],
)
def test_bad_statistics_requests_get_cloudwatch_errors(cronbridge_server: Any, call: dict[str, Any], code: str) -> None:
    args: dict[str, Any] = {
        "Namespace": "Batch",
        "MetricName": "Rows",
        "StartTime": stamp(T0),
        "EndTime": stamp(T0 + 600),
        "Period": 60,
        "Statistics": ["Sum"],
        **call,
    }
    with pytest.raises(ClientError) as err:
        cronbridge_server.client("cloudwatch").get_metric_statistics(**args)
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_aws_namespaces_are_reserved(cronbridge_server: Any) -> None:
    with pytest.raises(ClientError) as err:
        cronbridge_server.client("cloudwatch").put_metric_data(
            Namespace="AWS/Events", MetricData=[{"MetricName": "Invocations", "Value": 1.0}]
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_a_large_gzip_compressed_put_is_accepted(cronbridge_server: Any) -> None:
    cw = cronbridge_server.client("cloudwatch")
    now = datetime.now(UTC).timestamp()
    data = [{"MetricName": "Big", "Value": float(i), "Timestamp": stamp(now)} for i in range(1000)]  # > 10 KB
    cw.put_metric_data(Namespace="Load", MetricData=data)
    out = cw.get_metric_statistics(
        Namespace="Load",
        MetricName="Big",
        StartTime=stamp(now - 60),
        EndTime=stamp(now + 60),
        Period=60,
        Statistics=["SampleCount"],
    )
    assert sum(p["SampleCount"] for p in out["Datapoints"]) == 1000


def test_json_1_0_callers_are_served_too(cronbridge_server: Any) -> None:
    request = urllib.request.Request(
        cronbridge_server.endpoint + "/",
        data=json.dumps({"Namespace": "Nothing"}).encode(),
        method="POST",
        headers={
            "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read()) == {"Metrics": []}


def test_the_aws_cli_lists_metrics(cronbridge_server: Any) -> None:
    cronbridge_server.client("cloudwatch").put_metric_data(
        Namespace="Cli", MetricData=[{"MetricName": "Seen", "Value": 1.0}]
    )
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIDTEST",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "--endpoint-url",
            cronbridge_server.endpoint,
            "cloudwatch",
            "list-metrics",
            "--namespace",
            "Cli",
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["Metrics"][0]["MetricName"] == "Seen"


def test_prometheus_metrics_count_invocations_and_tasks(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    put_batch_rule(server, "scraped", "rate(1 minute)")
    server.advance_clock(60)
    invocations(server, "scraped", 1)
    with urllib.request.urlopen(server.endpoint + "/metrics") as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        page = response.read().decode()
    assert 'cronbridge_invocations_total{rule="scraped",outcome="SUCCEEDED"} 1' in page
    assert 'cronbridge_tasks{status="' in page
    assert 'cronbridge_launch_lateness_seconds{quantile="0.99"}' in page
