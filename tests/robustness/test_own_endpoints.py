"""Our own endpoints (/_cronbridge/...) are signed and authorized like AWS calls: unsigned or wrongly signed calls are
refused, each call needs its cronbridge:* action, the CLI notices wrong credentials; open mode keeps them open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from fixtures.seed import RULE, create_seed

ECS = "AmazonEC2ContainerServiceV20141113"
SEED = "ap-northeast-1"  # the seed's Region: our own endpoints act in the Region a call is signed for


def call(request: urllib.request.Request | str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def user_with(server: Any, name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    """A user whose inline policy is `statements`; its new access key."""
    iam = server.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_an_unsigned_run_now_is_refused_and_launches_nothing(cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    unsigned = urllib.request.Request(f"{cronbridge_server.endpoint}/_cronbridge/rules/{RULE}/run-now", data=b"{}",
                                      method="POST")
    status, body = call(unsigned)
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    assert cronbridge_server.get(f"/_cronbridge/invocations?rule={RULE}", region=SEED)["invocations"] == []
    ecs = cronbridge_server.client("ecs", region="ap-northeast-1")
    assert ecs.list_tasks(cluster=ecs.list_clusters()["clusterArns"][0])["taskArns"] == []


@pytest.mark.parametrize("path", ["/_cronbridge/rules", "/_cronbridge/tasks", "/_cronbridge/invocations",
                                  "/_cronbridge/events", f"/_cronbridge/rules/{RULE}/next",
                                  "/_cronbridge/tasks/batch/0123"])
def test_every_read_endpoint_needs_a_signature(cronbridge_server: Any, path: str) -> None:
    status, body = call(cronbridge_server.endpoint + path)
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")


def test_a_bogus_key_is_an_unrecognized_client(cronbridge_server: Any) -> None:
    request = cronbridge_server.signed_request("GET", "/_cronbridge/rules", key="AKIDBOGUS", secret="nope")
    status, body = call(request)
    assert (status, body["__type"]) == (400, "UnrecognizedClientException")


def test_a_signature_for_another_service_is_refused(cronbridge_server: Any) -> None:
    from fixtures.signed import exchange

    status, _, answer = exchange(cronbridge_server, "ecs", method="GET", path="/_cronbridge/rules")
    body = json.loads(answer)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"] == "Credential should be scoped to correct service: 'cronbridge'. "


def test_the_health_endpoint_stays_open_for_probes(cronbridge_server: Any) -> None:
    status, body = call(cronbridge_server.endpoint + "/_cronbridge/health")
    assert status == 200 and body["status"] == "ok"


def test_each_endpoint_needs_its_own_action_on_the_named_rule(cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    rule_arn = f"arn:aws:events:{SEED}:000000000000:rule/{RULE}"
    key, secret = user_with(cronbridge_server, "watcher", [
        {"Effect": "Allow", "Action": ["cronbridge:GetInvocations", "cronbridge:ListRules"], "Resource": "*"},
        {"Effect": "Allow", "Action": "cronbridge:RunNow", "Resource": "arn:aws:events:*:*:rule/other"},
    ])
    reads = cronbridge_server.signed_request("GET", f"/_cronbridge/invocations?rule={RULE}", key=key, secret=secret,
                                             region=SEED)
    assert call(reads)[0] == 200
    run = cronbridge_server.signed_request("POST", f"/_cronbridge/rules/{RULE}/run-now", b"{}", key=key,
                                           secret=secret, region=SEED)
    status, body = call(run)
    assert (status, body["__type"]) == (400, "AccessDeniedException")
    assert "cronbridge:RunNow" in body["message"] and rule_arn in body["message"]
    tasks = cronbridge_server.signed_request("GET", "/_cronbridge/tasks", key=key, secret=secret)
    assert call(tasks)[1]["__type"] == "AccessDeniedException"


def test_a_kept_task_needs_get_task_on_its_arn(cronbridge_server: Any) -> None:
    key, secret = user_with(cronbridge_server, "task-reader", [
        {"Effect": "Allow", "Action": "cronbridge:GetTask", "Resource": "arn:aws:ecs:*:*:task/batch/*"},
    ])
    mine = cronbridge_server.signed_request("GET", "/_cronbridge/tasks/batch/0123", key=key, secret=secret)
    assert call(mine) == (404, {"__type": "ResourceNotFoundException", "message": "No such task is recorded."})
    other = cronbridge_server.signed_request("GET", "/_cronbridge/tasks/other/0123", key=key, secret=secret)
    status, body = call(other)
    assert (status, body["__type"]) == (400, "AccessDeniedException")
    assert "cronbridge:GetTask" in body["message"] and "task/other/0123" in body["message"]


def test_the_cli_signs_its_calls_and_says_when_its_key_is_wrong(cronbridge_server: Any) -> None:
    env = {**os.environ, "CRONBRIDGE_ENDPOINT": cronbridge_server.endpoint, "AWS_ACCESS_KEY_ID": "AKIDBOGUS",
           "AWS_SECRET_ACCESS_KEY": "nope", "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([sys.executable, "-m", "cronbridge", "rules"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 4  # docs/cli.md: the server refused the credentials
    assert "UnrecognizedClientException" in done.stderr
    env.update({"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"})
    done = subprocess.run([sys.executable, "-m", "cronbridge", "rules"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


def test_open_mode_keeps_our_endpoints_open(server_factory: Any) -> None:
    server = server_factory(extra_env={"CRONBRIDGE_AUTH": "open"})
    status, body = call(f"{server.endpoint}/_cronbridge/rules")
    assert status == 200 and body["rules"] == []
    unsigned = urllib.request.Request(f"{server.endpoint}/_cronbridge/rules/ghost/run-now", data=b"{}", method="POST")
    assert call(unsigned)[1]["__type"] == "ResourceNotFoundException"
