"""Scheduled rules and EventBridge Scheduler schedules deliver to every kind of target, through boto3 against a real
server on the manual clock: SQS (an InputTransformer on the "Scheduled Event"; Scheduler's context attributes),
another bus, a log group; exactly one message per slot; a refusing queue dead-lettered at once, a failing one retried
then dead-lettered; AWS/Events metrics counting them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from fixtures.server import ServerProcess

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
ACCOUNT = "000000000000"
TRANSFORMER = {
    "InputPathsMap": {"at": "$.time", "rule": "$.resources[0]", "kind": "$.detail-type", "source": "$.source"},
    "InputTemplate": '{"at": <at>, "rule": <rule>, "kind": <kind>, "source": <source>, "name": <aws.events.rule-name>,'
    ' "text": "<kind> of <aws.events.rule-name> at <at>"}',
}


def queue(server: ServerProcess, name: str, allow_rules: bool = True, **attributes: str) -> tuple[str, str]:
    """A queue (its URL and ARN) whose policy lets EventBridge rules send to it, unless told otherwise."""
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if allow_rules:
        statement = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": "sqs:SendMessage", "Resource": arn}
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def drain(server: ServerProcess, url: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    """Receive (and delete) until `count` messages came, then make sure no more is there."""
    sqs, found = server.client("sqs"), []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        found += got
    found += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return found


def settled(server: ServerProcess, query: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    """The invocation history once `count` rows are there and none is PENDING."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = server.get(f"/_cronbridge/invocations?{query}")["invocations"]
        if len(rows) >= count and all(r["outcome"] != "PENDING" for r in rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"the history of {query} did not settle: {rows}")


def scheduler_role(server: ServerProcess, name: str, action: str, resource: str) -> str:
    """A role EventBridge Scheduler may assume, allowed `action` on `resource`."""
    iam = server.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    allowed = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    iam.put_role_policy(RoleName=name, PolicyName="target", PolicyDocument=json.dumps(allowed))
    return str(arn)


def test_a_scheduled_rule_sends_its_transformed_event_to_sqs_once_per_slot(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    events = server.client("events")
    shaped_url, shaped_arn = queue(server, "shaped")
    plain_url, plain_arn = queue(server, "plain")
    rule_arn = events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")["RuleArn"]
    failed = events.put_targets(Rule="every-minute", Targets=[
        {"Id": "shaped", "Arn": shaped_arn, "InputTransformer": TRANSFORMER},
        {"Id": "plain", "Arn": plain_arn},
    ])["FailedEntryCount"]
    assert failed == 0
    server.advance_clock(60)
    settled(server, "rule=every-minute", 2)
    server.advance_clock(60)
    rows = settled(server, "rule=every-minute", 4)
    shaped = sorted((json.loads(m["Body"]) for m in drain(server, shaped_url, 2)), key=lambda b: b["at"])
    assert shaped == [
        {"at": f"2027-01-15T08:0{minute}:00Z", "rule": rule_arn, "kind": "Scheduled Event", "source": "aws.events",
         "name": "every-minute", "text": f"Scheduled Event of every-minute at 2027-01-15T08:0{minute}:00Z"}
        for minute in (1, 2)
    ]
    plain = sorted((json.loads(m["Body"]) for m in drain(server, plain_url, 2)), key=lambda b: b["time"])
    assert [event["time"] for event in plain] == ["2027-01-15T08:01:00Z", "2027-01-15T08:02:00Z"]
    first = plain[0]
    assert set(first) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (first["version"], first["detail-type"], first["source"]) == ("0", "Scheduled Event", "aws.events")
    assert (first["account"], first["region"], first["resources"], first["detail"]) == (
        ACCOUNT, "us-east-1", [rule_arn], {})
    assert len({event["id"] for event in plain}) == 2
    assert sorted((r["target"], r["outcome"], r["attempts"]) for r in rows) == [
        ("plain", "SUCCEEDED", 1), ("plain", "SUCCEEDED", 1), ("shaped", "SUCCEEDED", 1), ("shaped", "SUCCEEDED", 1)]
    assert all(r["delivered"] and r["taskArns"] == [] and r["trigger"] == "schedule" for r in rows)
    server.stop()
    server.start()  # a restart delivers nothing twice: each slot was claimed once
    server.advance_clock(60)
    settled(server, "rule=every-minute", 6)
    assert [json.loads(m["Body"])["at"] for m in drain(server, shaped_url, 1)] == ["2027-01-15T08:03:00Z"]
    assert [json.loads(m["Body"])["time"] for m in drain(server, plain_url, 1)] == ["2027-01-15T08:03:00Z"]
    metrics = server.client("cloudwatch")
    for name, expected in (("Invocations", 6), ("TriggeredRules", 3), ("MatchedEvents", 3)):
        points = metrics.get_metric_statistics(
            Namespace="AWS/Events", MetricName=name, Dimensions=[{"Name": "RuleName", "Value": "every-minute"}],
            StartTime=datetime.fromtimestamp(T0, UTC), EndTime=datetime.fromtimestamp(T0 + 600, UTC), Period=600,
            Statistics=["Sum"],
        )["Datapoints"]
        assert [p["Sum"] for p in points] == [expected], name


def test_a_scheduled_rule_puts_its_event_on_another_bus_and_writes_a_log_group(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    events, logs = server.client("events"), server.client("logs")
    bus_arn = events.create_event_bus(Name="ticks")["EventBusArn"]
    url, arn = queue(server, "ticked")
    events.put_rule(Name="on-ticks", EventBusName="ticks",
                    EventPattern=json.dumps({"source": ["aws.events"], "detail-type": ["Scheduled Event"]}))
    events.put_targets(Rule="on-ticks", EventBusName="ticks", Targets=[{"Id": "q", "Arn": arn}])
    logs.create_log_group(logGroupName="/aws/events/ticks")
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/events/ticks"
    rule_arn = events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule="tick", Targets=[{"Id": "bus", "Arn": bus_arn}, {"Id": "log", "Arn": group_arn,
                                                                          "InputPath": "$.resources"}])
    server.advance_clock(60)
    rows = settled(server, "rule=tick", 2)
    [forwarded] = drain(server, url, 1)
    event = json.loads(forwarded["Body"])
    assert event["resources"] == [rule_arn] and event["time"] == "2027-01-15T08:01:00Z"
    by_target = {r["target"]: r for r in rows}
    assert by_target["bus"]["outcome"] == "SUCCEEDED" and by_target["bus"]["delivered"] == event["id"]
    stream = by_target["log"]["delivered"].split(":", 1)[1]
    written = logs.get_log_events(logGroupName="/aws/events/ticks", logStreamName=stream)["events"]
    assert [json.loads(e["message"]) for e in written] == [[rule_arn]]
    assert written[0]["timestamp"] == int((T0 + 60) * 1000)
    [matched] = settled(server, "rule=on-ticks&bus=ticks", 1)
    assert matched["trigger"] == "event" and matched["outcome"] == "SUCCEEDED" and matched["eventId"] == event["id"]


def test_a_schedule_sends_its_input_to_sqs_and_puts_events_on_a_bus(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    scheduler, events = server.client("scheduler"), server.client("events")
    url, arn = queue(server, "from-scheduler", allow_rules=False)  # Scheduler sends as its role, not by the policy
    role = scheduler_role(server, "ping-role", "sqs:SendMessage", arn)
    schedule_arn = scheduler.create_schedule(
        Name="ping", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": role,
                "Input": '{"at": "<aws.scheduler.scheduled-time>", "try": "<aws.scheduler.attempt-number>",'
                         ' "who": "<aws.scheduler.schedule-arn>"}'},
    )["ScheduleArn"]
    bus_arn = events.create_event_bus(Name="planned")["EventBusArn"]
    seen_url, seen_arn = queue(server, "planned-seen")
    events.put_rule(Name="planned", EventBusName="planned", EventPattern=json.dumps({"source": ["batch.planner"]}))
    events.put_targets(Rule="planned", EventBusName="planned", Targets=[{"Id": "q", "Arn": seen_arn}])
    scheduler.create_schedule(
        Name="plan", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": bus_arn, "RoleArn": scheduler_role(server, "plan-role", "events:PutEvents", bus_arn),
                "Input": '{"job": "nightly"}',
                "EventBridgeParameters": {"Source": "batch.planner", "DetailType": "Plan Ready"}},
    )
    server.advance_clock(60)
    [row] = settled(server, "schedule=ping", 1)
    [message] = drain(server, url, 1)
    assert json.loads(message["Body"]) == {"at": "2027-01-15T08:01:00Z", "try": "1", "who": schedule_arn}
    assert row["outcome"] == "SUCCEEDED" and row["delivered"] == message["MessageId"] and row["kind"] == "schedule"
    [planned] = drain(server, seen_url, 1)
    event = json.loads(planned["Body"])
    assert (event["source"], event["detail-type"]) == ("batch.planner", "Plan Ready")
    assert event["detail"] == {"job": "nightly"}
    assert event["resources"] == [schedule_arn.replace("schedule/default/ping", "schedule/default/plan")]


def test_a_schedule_whose_role_may_not_send_is_dead_lettered_with_the_reason(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    _, arn = queue(server, "guarded", allow_rules=False)
    dlq_url, dlq_arn = queue(server, "guarded-dlq")
    role = scheduler_role(server, "wrong-role", "sqs:GetQueueUrl", arn)  # not sqs:SendMessage
    server.client("scheduler").create_schedule(
        Name="denied", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": role, "Input": "hello", "DeadLetterConfig": {"Arn": dlq_arn}},
    )
    server.advance_clock(60)
    [row] = settled(server, "schedule=denied", 1)
    assert row["outcome"] == "FAILED" and row["errorCode"] == "AccessDeniedException" and row["attempts"] == 1
    assert "sqs:SendMessage" in row["errorMessage"] and row["deadLetter"] == "SENT"
    [letter] = drain(server, dlq_url, 1)
    assert letter["Body"] == "hello"
    assert letter["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "AccessDeniedException"


def test_a_queue_whose_policy_refuses_the_rule_is_dead_lettered_at_once_without_retries(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop")
    server.set_clock(T0)
    events = server.client("events")
    closed_url, closed_arn = queue(server, "closed", allow_rules=False)
    dlq_url, dlq_arn = queue(server, "closed-dlq")
    rule_arn = events.put_rule(Name="to-closed", ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule="to-closed", Targets=[{"Id": "q", "Arn": closed_arn, "DeadLetterConfig": {"Arn": dlq_arn}}])
    server.advance_clock(60)
    [row] = settled(server, "rule=to-closed", 1)
    assert (row["outcome"], row["errorCode"], row["attempts"]) == ("FAILED", "AccessDeniedException", 1)
    assert row["exhaustedRetryCondition"] is None and row["deadLetter"] == "SENT"  # permissions: not retried (AWS)
    [letter] = drain(server, dlq_url, 1)
    attributes = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == closed_arn
    assert attributes["RETRY_ATTEMPTS"] == "0" and attributes["SCHEDULED_TIME"] == "2027-01-15T08:01:00Z"
    assert json.loads(letter["Body"])["detail-type"] == "Scheduled Event"
    assert drain(server, closed_url, 0) == []


def test_a_failing_sqs_target_is_retried_then_dead_lettered(server_factory: Any) -> None:
    server = server_factory(manual_clock=True, launcher="noop",
                            extra_env={"CRONBRIDGE_INJECT_RUNTASK_ERRORS": "flaky:ServiceUnavailable:10"})
    server.set_clock(T0)
    events = server.client("events")
    url, arn = queue(server, "flaky")
    dlq_url, dlq_arn = queue(server, "flaky-dlq")
    events.put_rule(Name="flaky", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="flaky", Targets=[{"Id": "flaky", "Arn": arn, "DeadLetterConfig": {"Arn": dlq_arn},
                                               "RetryPolicy": {"MaximumRetryAttempts": 2}}])
    server.advance_clock(3600)
    deadline = time.monotonic() + 20
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:  # each retry waits its backoff on the manual clock
        rows = server.get("/_cronbridge/invocations?rule=flaky")["invocations"]
        if rows and rows[0]["outcome"] == "FAILED":
            break
        server.advance_clock(5)
        time.sleep(0.1)
    [row] = rows
    assert (row["outcome"], row["attempts"], row["errorCode"]) == ("FAILED", 3, "ServiceUnavailable")
    assert row["exhaustedRetryCondition"] == "MaximumRetryAttemptsExhausted" and row["deadLetter"] == "SENT"
    [letter] = drain(server, dlq_url, 1)
    attributes = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attributes["RETRY_ATTEMPTS"] == "2" and attributes["EXHAUSTED_RETRY_CONDITION"] == (
        "MaximumRetryAttemptsExhausted")
    assert drain(server, url, 0) == []
