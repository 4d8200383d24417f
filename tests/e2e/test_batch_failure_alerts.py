"""The issue's user path: the seed's batch fails, and its owners learn it three ways — an "ECS Task State Change"
rule sends the event to SQS, an ERROR line raises a CloudWatch alarm whose state change a rule sends to SQS, and a
Logs Insights query counts the errors."""

from __future__ import annotations

import json
import time
from typing import Any

from cronbridge import demo
from fixtures.seed import LOG_GROUP, RULE, create_seed, put_target

FAILING = ["sh", "-c", "echo 'ERROR batch failed: disk full'; exit 1"]


def failing_seed(server: Any) -> dict[str, str]:
    """The seed, its container made to print an ERROR line and exit 1."""
    seed = create_seed(server)
    events = server.client("events", region=demo.REGION)
    role = events.list_targets_by_rule(Rule=RULE)["Targets"][0]["RoleArn"]
    put_target(events, RULE, seed["cluster"], seed["task_definition"], role)
    target = events.list_targets_by_rule(Rule=RULE)["Targets"][0]
    target["Input"] = json.dumps({"containerOverrides": [{"name": "hello", "command": FAILING}]})
    events.put_targets(Rule=RULE, Targets=[target])
    return seed


def queue_for_events(server: Any, name: str) -> tuple[str, str]:
    sqs = server.client("sqs", region=demo.REGION)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Principal": {"Service": "events.amazonaws.com"},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def rule_to_queue(server: Any, name: str, pattern: dict[str, Any], queue_arn: str) -> None:
    events = server.client("events", region=demo.REGION)
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])


def receive_one(server: Any, url: str, timeout: float = 60) -> dict[str, Any]:
    sqs = server.client("sqs", region=demo.REGION)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageSystemAttributeNames=["SentTimestamp"]).get(
            "Messages"
        )
        if found:
            return dict(found[0])
    raise AssertionError(f"no message on {url} within {timeout} s")


TASK_STOPPED = {
    "source": ["aws.ecs"],
    "detail-type": ["ECS Task State Change"],
    "detail": {"lastStatus": ["STOPPED"], "stopCode": ["EssentialContainerExited"]},
}


def test_a_failed_batch_reaches_the_queue_within_a_second_of_stopping(server_factory: Any) -> None:
    server = server_factory(launcher="process")
    failing_seed(server)
    url, arn = queue_for_events(server, "batch-failures")
    rule_to_queue(server, "batch-failed", TASK_STOPPED, arn)
    task_arn = server.post(f"/_cronbridge/rules/{RULE}/run-now", region=demo.REGION)["taskArns"][0]
    message = receive_one(server, url)
    event = json.loads(message["Body"])
    assert event["source"] == "aws.ecs" and event["detail-type"] == "ECS Task State Change"
    assert event["resources"] == [task_arn]
    assert event["detail"]["containers"][0]["exitCode"] == 1
    assert event["detail"]["stoppedReason"] == "Essential container in task exited"
    ecs = server.client("ecs", region=demo.REGION)
    task = ecs.describe_tasks(cluster=event["detail"]["clusterArn"], tasks=[task_arn])["tasks"][0]
    stopped_ms = task["stoppedAt"].timestamp() * 1000
    assert 0 <= int(message["Attributes"]["SentTimestamp"]) - stopped_ms <= 1000


def test_an_error_line_raises_the_alarm_whose_state_change_reaches_the_queue(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="process")
    server.set_clock(time.time())  # the container's lines are stamped as they are written: the clock starts at now
    failing_seed(server)
    logs, cloudwatch = server.client("logs", region=demo.REGION), server.client("cloudwatch", region=demo.REGION)
    logs.put_metric_filter(
        logGroupName=LOG_GROUP,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": "Batch", "metricValue": "1"}],
    )
    cloudwatch.put_metric_alarm(
        AlarmName="batch-errors",
        Namespace="Batch",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    url, arn = queue_for_events(server, "alarms")
    rule_to_queue(
        server,
        "alarm-raised",
        {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"state": {"value": ["ALARM"]}},
        },
        arn,
    )
    task_arn = server.post(f"/_cronbridge/rules/{RULE}/run-now", region=demo.REGION)["taskArns"][0]
    written = wait_for_error_line(logs, task_arn) / 1000
    assert alarm_state(cloudwatch) != "ALARM"
    period_end = (written // 60 + 1) * 60
    server.set_clock(period_end + 1)  # the period holding the ERROR line ends: one evaluation period later
    deadline = time.monotonic() + 30
    while alarm_state(cloudwatch) != "ALARM" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alarm_state(cloudwatch) == "ALARM"
    event = json.loads(receive_one(server, url, timeout=30)["Body"])
    assert event["detail"]["alarmName"] == "batch-errors"
    assert event["detail"]["state"]["value"] == "ALARM" and event["detail"]["previousState"]["value"] != "ALARM"
    history = cloudwatch.describe_alarm_history(AlarmName="batch-errors", HistoryItemType="StateUpdate")
    assert "to ALARM" in history["AlarmHistoryItems"][0]["HistorySummary"]
    stats = cloudwatch.get_metric_statistics(
        Namespace="Batch",
        MetricName="Errors",
        StartTime=period_end - 60,
        EndTime=period_end,
        Period=60,
        Statistics=["Sum"],
    )
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 1.0


def wait_for_error_line(logs: Any, task_arn: str, timeout: float = 60) -> int:
    """The ERROR line's timestamp (ms), once the task's awslogs has stored it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = logs.filter_log_events(logGroupName=LOG_GROUP, filterPattern="ERROR")["events"]
        if found:
            return int(found[0]["timestamp"])
        time.sleep(0.2)
    raise AssertionError(f"task {task_arn} logged no ERROR line")


def alarm_state(cloudwatch: Any) -> str:
    return str(cloudwatch.describe_alarms(AlarmNames=["batch-errors"])["MetricAlarms"][0]["StateValue"])
