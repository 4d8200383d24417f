"""Client mistakes against a real server: each gets an AWS-shaped 4xx, never a 5xx, and the server serves on."""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

import pytest

from fixtures.signed import exchange, signed

ECS = "AmazonEC2ContainerServiceV20141113"
LOGS = "Logs_20140328"
SQS = "AmazonSQS"
CLOUDWATCH = "GraniteServiceVersion20100801"
JSON_11 = "application/x-amz-json-1.1"
DEEP = b"[" * 20_000 + b"]" * 20_000
SURROGATE = "\\ud800"  # as a JSON escape: a lone high surrogate


def json_call(server: Any, service: str, target: str, body: bytes,
              content_type: str = JSON_11) -> tuple[int, Any, Any]:
    """A signed awsJson call: (status, decoded body, headers)."""
    status, headers, answer = exchange(server, service, body, headers={"X-Amz-Target": target,
                                                                       "Content-Type": content_type})
    return status, (json.loads(answer) if answer else {}), headers


def assert_refused(status: int, payload: dict[str, Any], code: str) -> None:
    assert status == 400, payload
    assert payload["__type"] == code, payload


@pytest.mark.parametrize(("service", "target", "body"), [
    ("ecs", f"{ECS}.ListClusters", b'{"nextToken": ' + DEEP + b"}"),
    ("ecs", f"{ECS}.RegisterTaskDefinition", b'{"family": "f", "containerDefinitions": [' + b'{"a":' * 3000 +
     b"1" + b"}" * 3000 + b"]}"),
    ("logs", f"{LOGS}.DescribeLogGroups", b'{"logGroupNamePrefix": ' + b"[" * 70 + b"]" * 70 + b"}"),
])
def test_json_nested_too_deep_is_a_serialization_exception(cronbridge_server: Any, service: str, target: str,
                                                           body: bytes) -> None:
    status, payload, _ = json_call(cronbridge_server, service, target, body)
    assert_refused(status, payload, "SerializationException")
    assert cronbridge_server.client("ecs").list_clusters()["clusterArns"] == []


@pytest.mark.parametrize(("service", "target", "body"), [
    ("ecs", f"{ECS}.CreateCluster", f'{{"clusterName": "a{SURROGATE}"}}'),
    ("logs", f"{LOGS}.CreateLogGroup", f'{{"logGroupName": "/g{SURROGATE}"}}'),
    ("sqs", f"{SQS}.CreateQueue", f'{{"QueueName": "q{SURROGATE}"}}'),
    ("ecs", f"{ECS}.ListClusters", f'{{"{SURROGATE}": 1}}'),
])
def test_a_lone_surrogate_is_refused_before_it_reaches_the_store(cronbridge_server: Any, service: str, target: str,
                                                                 body: str) -> None:
    content_type = "application/x-amz-json-1.0" if service == "sqs" else JSON_11
    status, payload, _ = json_call(cronbridge_server, service, target, body.encode(), content_type)
    assert_refused(status, payload, "SerializationException")


def test_a_surrogate_pair_is_a_character_and_is_kept(cronbridge_server: Any) -> None:
    cronbridge_server.client("logs").create_log_group(logGroupName="/g")
    body = b'{"logGroupName": "/g", "logStreamName": "s\\ud83d\\ude00"}'
    status, payload, _ = json_call(cronbridge_server, "logs", f"{LOGS}.CreateLogStream", body)
    assert status == 200, payload
    streams = cronbridge_server.client("logs").describe_log_streams(logGroupName="/g")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["s\U0001f600"]


def test_a_lone_surrogate_in_a_log_message_is_refused(cronbridge_server: Any) -> None:
    logs = cronbridge_server.client("logs")
    logs.create_log_group(logGroupName="/g")
    logs.create_log_stream(logGroupName="/g", logStreamName="s")
    body = json.dumps({"logGroupName": "/g", "logStreamName": "s",
                       "logEvents": [{"timestamp": 1, "message": "x"}]}).replace('"x"', f'"x{SURROGATE}"')
    status, payload, _ = json_call(cronbridge_server, "logs", f"{LOGS}.PutLogEvents", body.encode())
    assert_refused(status, payload, "SerializationException")


@pytest.mark.parametrize(("service", "target", "body", "content_type", "code"), [
    ("monitoring", f"{CLOUDWATCH}.PutMetricData", b'{"Namespace": "n", "MetricData": [null]}',
     "application/x-amz-json-1.0", "InvalidParameterValue"),
    ("monitoring", f"{CLOUDWATCH}.PutMetricData",
     b'{"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1, "Dimensions": [null]}]}',
     "application/x-amz-json-1.0", "InvalidParameterValue"),
    ("ecs", f"{ECS}.DescribeClusters", b'{"clusters": [null]}', JSON_11, "InvalidParameterException"),
])
def test_a_null_list_element_fails_validation(cronbridge_server: Any, service: str, target: str, body: bytes,
                                              content_type: str, code: str) -> None:
    status, payload, _ = json_call(cronbridge_server, service, target, body, content_type)
    assert_refused(status, payload, code)
    assert "Member must not be null" in payload["message"]


def test_a_policy_document_nested_too_deep_is_malformed(cronbridge_server: Any) -> None:
    document = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
                '"Condition": {"StringEquals": {"a": ' + "[" * 5000 + "]" * 5000 + "}}}]}")
    form = urllib.parse.urlencode({"Action": "CreatePolicy", "Version": "2010-05-08", "PolicyName": "deep",
                                   "PolicyDocument": document})
    status, answer = signed(cronbridge_server, "iam", form.encode())
    assert status == 400, answer
    assert b"<Code>MalformedPolicyDocument</Code>" in answer


@pytest.mark.parametrize(("service", "target", "content_type", "field"), [
    ("logs", f"{LOGS}.DescribeLogGroups", JSON_11, "nextToken"),
    ("monitoring", f"{CLOUDWATCH}.ListMetrics", "application/x-amz-json-1.0", "NextToken"),
])
def test_a_paging_token_nested_too_deep_is_an_invalid_token(cronbridge_server: Any, service: str, target: str,
                                                            content_type: str, field: str) -> None:
    token = base64.urlsafe_b64encode(DEEP).decode()
    status, payload, _ = json_call(cronbridge_server, service, target, json.dumps({field: token}).encode(),
                                   content_type)
    assert status == 400, payload


def test_a_redrive_policy_nested_too_deep_is_an_invalid_attribute(cronbridge_server: Any) -> None:
    body = json.dumps({"QueueName": "q", "Attributes": {"RedrivePolicy": "[" * 5000 + "]" * 5000}}).encode()
    status, payload, _ = json_call(cronbridge_server, "sqs", f"{SQS}.CreateQueue", body, "application/x-amz-json-1.0")
    assert status == 400, payload
    assert "RedrivePolicy" in payload["message"]


@pytest.mark.parametrize("token", ["t" * 65, "with space", "é"])
def test_run_task_takes_a_client_token_of_at_most_64_printable_ascii_characters(cronbridge_server: Any,
                                                                                token: str) -> None:
    body = json.dumps({"taskDefinition": "nothing:1", "clientToken": token}).encode()
    status, payload, _ = json_call(cronbridge_server, "ecs", f"{ECS}.RunTask", body)
    assert_refused(status, payload, "InvalidParameterException")
    assert "clientToken" in payload["message"]


def test_a_call_signed_for_another_service_is_refused(cronbridge_server: Any) -> None:
    status, payload, _ = json_call(cronbridge_server, "logs", f"{ECS}.CreateCluster", b'{"clusterName": "x"}')
    assert_refused(status, payload, "InvalidSignatureException")
    assert payload["message"] == "Credential should be scoped to correct service: 'ecs'. "
    assert cronbridge_server.client("ecs").list_clusters()["clusterArns"] == []


@pytest.mark.parametrize("datum", [
    {"MetricName": "m", "Values": []},
    {"MetricName": "m", "Value": float("nan")},
    {"MetricName": "m", "Values": [1.0, float("inf")]},
    {"MetricName": "m", "Value": 2.0**400},
    {"MetricName": "m", "Values": [1.0], "Counts": [-1.0]},
    {"MetricName": "m", "Values": [float(i) for i in range(151)]},
    {"MetricName": "m", "StatisticValues": {"SampleCount": 1, "Sum": float("nan"), "Minimum": 0, "Maximum": 1}},
])
def test_metric_values_cloudwatch_rejects_are_invalid_parameter_values(cronbridge_server: Any,
                                                                        datum: dict[str, Any]) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        cronbridge_server.client("cloudwatch").put_metric_data(Namespace="n", MetricData=[datum])
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_huge_counts_keep_their_distribution_without_expanding_it(cronbridge_server: Any) -> None:
    cloudwatch = cronbridge_server.client("cloudwatch")
    cloudwatch.put_metric_data(Namespace="n", MetricData=[
        {"MetricName": "latency", "Values": [10.0, 1000.0], "Counts": [9e11, 1e11]}])  # a trillion samples
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace="n", MetricName="latency", StartTime=now - dt.timedelta(minutes=5),
        EndTime=now + dt.timedelta(minutes=1), Period=60, Statistics=["SampleCount"], ExtendedStatistics=["p50", "p95"])
    [point] = answer["Datapoints"]
    assert point["SampleCount"] == 1e12
    assert point["ExtendedStatistics"] == {"p50": 10.0, "p95": 1000.0}
