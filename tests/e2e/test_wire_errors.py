"""Bad input on the wire: AWS-shaped errors (code in body and header, HTTP 400), and the server keeps serving."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest

from cronbridge.api import sigv4
from fixtures.server import ADMIN_KEY, ADMIN_SECRET

ECS = "AmazonEC2ContainerServiceV20141113"


def raw(server: Any, target: str | None, body: bytes) -> tuple[int, Any, dict[str, Any]]:
    """A hand-made request, signed as the administrator for eu-west-1."""
    amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {"Content-Type": "application/x-amz-json-1.1", "Host": f"127.0.0.1:{server.port}",
               "X-Amz-Date": amz_date}
    if target:
        headers["X-Amz-Target"] = target
    service = {"AWSEvents": "events", "Logs_20140328": "logs"}.get((target or "").rpartition(".")[0], "ecs")
    headers["Authorization"] = sigv4.sign("POST", "/", "", headers, body, access_key_id=ADMIN_KEY,
                                          secret_access_key=ADMIN_SECRET, region="eu-west-1", service=service,
                                          amz_date=amz_date)
    request = urllib.request.Request(server.endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read())


@pytest.mark.parametrize(
    ("target", "body", "code"),
    [
        (f"{ECS}.ListClusters", b"{not json", "SerializationException"),
        (f"{ECS}.ListClusters", b"[1, 2]", "SerializationException"),
        (f"{ECS}.NoSuchThing", b"{}", "UnknownOperationException"),
        ("Nobody_2020.ListThings", b"{}", "UnknownOperationException"),
        (f"{ECS}.RegisterTaskDefinition", b"{}", "InvalidParameterException"),
        (f"{ECS}.RegisterTaskDefinition", b'{"family": 5, "containerDefinitions": "x"}', "InvalidParameterException"),
        (f"{ECS}.DescribeTasks", b'{"tasks": ["a"], "cluster": "ghost"}', "ClusterNotFoundException"),
        ("AWSEvents.DescribeRule", b'{"Name": "ghost"}', "ResourceNotFoundException"),
        ("AWSEvents.PutRule", b'{"Name": "r", "ScheduleExpression": "cron(* * * * * *)"}', "ValidationException"),
        ("Logs_20140328.CreateLogStream", b'{"logGroupName": "ghost", "logStreamName": "s"}',
         "ResourceNotFoundException"),
    ],
)
def test_bad_requests_get_aws_errors_and_the_server_keeps_serving(
    cronbridge_server: Any, target: str, body: bytes, code: str
) -> None:
    status, headers, payload = raw(cronbridge_server, target, body)
    assert status == 400
    assert payload["__type"] == code and payload["message"]
    assert headers.get("X-Amzn-ErrorType") == code  # header names are case-insensitive
    assert cronbridge_server.client("ecs").list_clusters()["clusterArns"] == []


def test_arns_carry_the_region_of_the_signing_scope(cronbridge_server: Any) -> None:
    status, _, payload = raw(cronbridge_server, f"{ECS}.CreateCluster", b'{"clusterName": "eu"}')
    assert status == 200
    assert payload["cluster"]["clusterArn"] == "arn:aws:ecs:eu-west-1:000000000000:cluster/eu"
