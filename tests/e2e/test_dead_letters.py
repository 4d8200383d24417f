"""Dead letters through the real server: read back with boto3 SQS, with every attribute AWS sets; RetryPolicy ranges
checked by PutTargets; slots that passed their maximum event age while the server was down are dead-lettered."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.ecs import events_role, register

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def setup(server: Any, rule: str, cluster: str, **target: Any) -> tuple[str, str]:
    ecs, events, sqs = server.client("ecs"), server.client("events"), server.client("sqs")
    server.client("logs").create_log_group(logGroupName="/ecs/test")
    ecs.create_cluster(clusterName="work")
    taskdef = register(ecs)
    queue_url = sqs.create_queue(QueueName="batch-dlq")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    failed = events.put_targets(
        Rule=rule,
        Targets=[
            {
                "Id": "batch",
                "Arn": f"arn:aws:ecs:us-east-1:000000000000:cluster/{cluster}",
                "RoleArn": events_role(ecs, taskdef),
                "EcsParameters": {
                    "TaskDefinitionArn": taskdef,
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"]}},
                },
                "DeadLetterConfig": {"Arn": queue_arn},
                **target,
            }
        ],
    )["FailedEntryCount"]
    assert failed == 0
    return queue_url, rule_arn


def receive_all(server: Any, queue_url: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    sqs = server.client("sqs")
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        found += sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages", [])
    return found


def test_a_target_whose_cluster_is_gone_is_dead_lettered_with_aws_attributes(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    queue_url, rule_arn = setup(server, "nightly", "gone")
    server.advance_clock(60)
    [message] = receive_all(server, queue_url, 1)
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {
        "ERROR_CODE": "ClusterNotFoundException",
        "ERROR_MESSAGE": "Cluster not found.",
        "RETRY_ATTEMPTS": "0",
        "RULE_ARN": rule_arn,
        "TARGET_ARN": "arn:aws:ecs:us-east-1:000000000000:cluster/gone",
        "SCHEDULED_TIME": "2027-01-15T08:01:00Z",
    }
    assert all(v["DataType"] == "String" for v in message["MessageAttributes"].values())
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Scheduled Event" and event["resources"] == [rule_arn]
    [record] = server.get("/_cronbridge/invocations?rule=nightly")["invocations"]
    assert record["outcome"] == "FAILED" and record["deadLetter"] == "SENT" and record["attempts"] == 1


def test_put_targets_checks_the_retry_policy_ranges(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    events.put_rule(Name="ranges", ScheduleExpression="rate(1 hour)")
    base = {
        "Arn": "arn:aws:ecs:us-east-1:000000000000:cluster/work",
        "EcsParameters": {"TaskDefinitionArn": "arn:aws:ecs:us-east-1:000000000000:task-definition/batch:1"},
    }
    with pytest.raises(ClientError) as denied:
        events.put_targets(
            Rule="ranges",
            Targets=[
                {"Id": "attempts", **base, "RetryPolicy": {"MaximumRetryAttempts": 186}},
                {"Id": "age", **base, "RetryPolicy": {"MaximumEventAgeInSeconds": 86401}},
            ],
        )
    error = denied.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert (
        "MaximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185"
        in (error["Message"])
    )
    assert (
        "MaximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 86400"
        in (error["Message"])
    )
    result = events.put_targets(
        Rule="ranges",
        Targets=[{"Id": "ok", **base, "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}}],
    )
    assert result["FailedEntryCount"] == 0
    [kept] = events.list_targets_by_rule(Rule="ranges")["Targets"]
    assert kept["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}


def test_slots_older_than_the_max_age_after_downtime_are_one_row_and_dead_letters(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    queue_url, _ = setup(server, "minutely", "work", RetryPolicy={"MaximumEventAgeInSeconds": 120})
    server.advance_clock(60)
    server.stop()
    server.start()  # the manual clock resumes where it was
    assert server.get("/_cronbridge/health")["now"] == T0 + 60
    server.set_clock(T0 + 60 + 630)  # 08:11:30: 8 slots too old (08:02-08:09), 2 young
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = server.get("/_cronbridge/invocations?rule=minutely")["invocations"]
        if len(rows) == 4 and all(r["outcome"] != "PENDING" for r in rows):
            break
        time.sleep(0.05)
    rows = sorted(rows, key=lambda r: r["scheduledTime"])
    assert [r["outcome"] for r in rows] == ["SUCCEEDED", "FAILED", "SUCCEEDED", "SUCCEEDED"]
    summary = rows[1]
    assert summary["exhaustedRetryCondition"] == "MaximumEventAgeExceeded" and summary["slotCount"] == 8
    assert summary["scheduledTime"] == "2027-01-15T08:02:00.000Z"
    assert summary["coversUntil"] == "2027-01-15T08:09:30.000Z"
    assert [r["scheduledTime"][11:19] for r in rows[2:]] == ["08:10:00", "08:11:00"]
    assert all(r["latenessSeconds"] > 0 for r in rows[2:])  # late, with the original scheduled time
    letters = receive_all(server, queue_url, 8)
    times = sorted(m["MessageAttributes"]["SCHEDULED_TIME"]["StringValue"] for m in letters)
    assert times == [f"2027-01-15T08:0{m}:00Z" for m in range(2, 10)]
    assert {m["MessageAttributes"]["EXHAUSTED_RETRY_CONDITION"]["StringValue"] for m in letters} == {
        "MaximumEventAgeExceeded"
    }
