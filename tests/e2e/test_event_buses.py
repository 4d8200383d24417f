"""Event buses through the real server: buses, PutEvents, pattern rules delivering to SQS (its policy checked),
another bus and a log group, input transformers, TestEventPattern, and AWS's refusals."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError


def queue(server: Any, name: str, allow: bool = True) -> tuple[str, str]:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if allow:
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def receive(server: Any, url: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    sqs, found = server.client("sqs"), []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        found += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return found


def test_an_event_put_on_a_custom_bus_reaches_the_queue_of_the_rule_it_matches(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    bus_arn = events.create_event_bus(Name="orders")["EventBusArn"]
    assert bus_arn.endswith(":event-bus/orders")
    url, arn = queue(cronbridge_server, "orders-paid")
    events.put_rule(
        Name="paid", EventBusName="orders", EventPattern=json.dumps({"source": ["shop"], "detail": {"state": ["PAID"]}})
    )
    events.put_targets(Rule="paid", EventBusName="orders", Targets=[{"Id": "q", "Arn": arn}])
    answer = events.put_events(
        Entries=[
            {
                "Source": "shop",
                "DetailType": "Order",
                "Detail": json.dumps({"state": "PAID", "n": 1}),
                "EventBusName": "orders",
            },
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"state": "NEW"}), "EventBusName": "orders"},
            {"Source": "shop", "DetailType": "Order", "Detail": "[1]", "EventBusName": "orders"},
        ]
    )
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][2] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    messages = receive(cronbridge_server, url)
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["detail"] == {"state": "PAID", "n": 1}
    assert body["id"] == answer["Entries"][0]["EventId"]
    assert body["source"] == "shop" and body["detail-type"] == "Order" and body["account"]
    described = events.describe_rule(Name="paid", EventBusName="orders")
    assert described["Arn"].endswith(":rule/orders/paid") and described["EventBusName"] == "orders"
    assert [r["Name"] for r in events.list_rules(EventBusName="orders")["Rules"]] == ["paid"]
    assert "paid" not in [r["Name"] for r in events.list_rules()["Rules"]]


def test_a_bus_with_rules_cannot_be_deleted_and_the_default_bus_never(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    events.create_event_bus(Name="kept")
    events.put_rule(Name="r", EventBusName="kept", EventPattern='{"source": ["x"]}')
    with pytest.raises(ClientError) as refused:
        events.delete_event_bus(Name="kept")
    assert refused.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "EventBus can't be deleted since it has rules.",
    }
    with pytest.raises(ClientError) as default:
        events.delete_event_bus(Name="default")
    assert default.value.response["Error"]["Message"] == "Cannot delete event bus default."
    with pytest.raises(ClientError) as twice:
        events.create_event_bus(Name="kept")
    assert twice.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    events.delete_rule(Name="r", EventBusName="kept")
    events.delete_event_bus(Name="kept")
    events.delete_event_bus(Name="kept")  # a bus that does not exist: no error, as on AWS
    with pytest.raises(ClientError) as gone:
        events.describe_event_bus(Name="kept")
    assert gone.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Event bus kept does not exist.",
    }
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in names and "kept" not in names


def test_the_default_bus_shows_one_creation_time_and_cannot_be_created_again(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    described = events.describe_event_bus()
    assert described["Name"] == "default"
    assert described["CreationTime"] == described["LastModifiedTime"]
    listed = {b["Name"]: b for b in events.list_event_buses()["EventBuses"]}
    assert listed["default"]["CreationTime"] == described["CreationTime"]
    assert events.describe_event_bus(Name="default")["CreationTime"] == described["CreationTime"]
    with pytest.raises(ClientError) as again:
        events.create_event_bus(Name="default")
    assert again.value.response["Error"] == {
        "Code": "ResourceAlreadyExistsException",
        "Message": "Event bus default already exists.",
    }


@pytest.mark.parametrize(("params", "code", "message"), [
    ({"Name": "team/bus"}, "ValidationException", "Event bus name must not contain '/'."),
    ({"Name": "aws.partner/a/b", "EventSourceName": "aws.partner/a/c"}, "ValidationException",
     "Event bus name must match event source name."),
    ({"Name": "aws.partner/a/b", "EventSourceName": "aws.partner/a/b"}, "ResourceNotFoundException",
     "Event source aws.partner/a/b does not exist."),
])
def test_only_a_partner_bus_has_a_slash_in_its_name(
    cronbridge_server: Any, params: dict[str, str], code: str, message: str
) -> None:
    with pytest.raises(ClientError) as refused:
        cronbridge_server.client("events").create_event_bus(**params)
    assert refused.value.response["Error"] == {"Code": code, "Message": message}


def test_a_queue_whose_policy_does_not_allow_eventbridge_gets_nothing_and_the_failure_is_counted(
    cronbridge_server: Any,
) -> None:
    events = cronbridge_server.client("events")
    url, arn = queue(cronbridge_server, "closed", allow=False)
    dlq_url, dlq_arn = queue(cronbridge_server, "closed-dlq")
    events.put_rule(Name="to-closed", EventPattern='{"source": ["closed.app"]}')
    events.put_targets(Rule="to-closed", Targets=[{"Id": "q", "Arn": arn, "DeadLetterConfig": {"Arn": dlq_arn}}])
    events.put_events(Entries=[{"Source": "closed.app", "DetailType": "x", "Detail": "{}"}])
    dead = receive(cronbridge_server, dlq_url)
    assert len(dead) == 1 and json.loads(dead[0]["Body"])["source"] == "closed.app"
    assert receive(cronbridge_server, url, timeout=1) == []


def test_put_targets_refuses_a_target_arn_that_is_not_an_arn_and_a_fifo_queue_without_its_group(
    cronbridge_server: Any,
) -> None:
    """Checked from the request alone, before the rule is looked up (the rule here does not exist)."""
    events = cronbridge_server.client("events")
    with pytest.raises(ClientError) as refused:
        events.put_targets(Rule="nowhere", Targets=[{"Id": "b", "Arn": "test-bucket"}])
    assert refused.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Parameter test-bucket is not valid. Reason: Provided Arn is not in correct format.",
    }
    fifo = "arn:aws:sqs:us-east-1:000000000000:jobs.fifo"
    with pytest.raises(ClientError) as refused:
        events.put_targets(Rule="nowhere", Targets=[{"Id": "q", "Arn": fifo}])
    assert refused.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Parameter(s) SqsParameters must be specified for target: q.",
    }
    with pytest.raises(ClientError) as refused:  # with its group it gets as far as the rule
        events.put_targets(Rule="nowhere", Targets=[{"Id": "q", "Arn": fifo, "SqsParameters": {"MessageGroupId": "g"}}])
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_input_transformer_and_input_path(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    url, arn = queue(cronbridge_server, "shaped")
    events.put_rule(Name="shaped", EventPattern='{"source": ["shape.app"]}')
    events.put_targets(
        Rule="shaped",
        Targets=[
            {
                "Id": "t",
                "Arn": arn,
                "InputTransformer": {
                    "InputPathsMap": {"state": "$.detail.state", "n": "$.detail.n"},
                    "InputTemplate": '{"state": <state>, "text": "n is <n>", "rule": <aws.events.rule-name>}',
                },
            }
        ],
    )
    events.put_events(Entries=[{"Source": "shape.app", "DetailType": "x", "Detail": '{"state": "UP", "n": 3}'}])
    assert json.loads(receive(cronbridge_server, url)[0]["Body"]) == {"state": "UP", "text": "n is 3", "rule": "shaped"}
    with pytest.raises(ClientError) as refused:
        events.put_targets(Rule="shaped", Targets=[{"Id": "u", "Arn": arn, "Input": "{}", "InputPath": "$.detail"}])
    assert refused.value.response["Error"]["Message"] == (
        "Only one of Input, InputPath, or InputTransformer must be provided for target u."
    )


def test_a_bus_target_forwards_and_a_log_group_target_stores_the_event(cronbridge_server: Any) -> None:
    events, logs = cronbridge_server.client("events"), cronbridge_server.client("logs")
    second = events.create_event_bus(Name="second")["EventBusArn"]
    url, arn = queue(cronbridge_server, "from-second")
    logs.create_log_group(logGroupName="/aws/events/audit")
    group_arn = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/events/audit"
    events.put_rule(Name="forward", EventPattern='{"source": ["fwd.app"]}')
    events.put_targets(Rule="forward", Targets=[{"Id": "bus", "Arn": second}, {"Id": "log", "Arn": group_arn}])
    events.put_rule(Name="arrive", EventBusName="second", EventPattern='{"source": ["fwd.app"]}')
    events.put_targets(Rule="arrive", EventBusName="second", Targets=[{"Id": "q", "Arn": arn}])
    event_id = events.put_events(Entries=[{"Source": "fwd.app", "DetailType": "x", "Detail": "{}"}])["Entries"][0][
        "EventId"
    ]
    assert json.loads(receive(cronbridge_server, url)[0]["Body"])["id"] == event_id
    stored = logs.filter_log_events(logGroupName="/aws/events/audit")["events"]
    assert [json.loads(e["message"])["id"] for e in stored] == [event_id]


def test_test_event_pattern(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    event = json.dumps(
        {
            "id": "1",
            "account": "123456789012",
            "source": "aws.ecs",
            "time": "2024-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail-type": "ECS Task State Change",
            "detail": {"lastStatus": "STOPPED", "containers": [{"exitCode": 1}]},
        }
    )
    pattern = {"source": ["aws.ecs"], "detail": {"containers": {"exitCode": [{"anything-but": 0}]}}}
    assert events.test_event_pattern(EventPattern=json.dumps(pattern), Event=event)["Result"] is True
    assert events.test_event_pattern(EventPattern='{"source": ["aws.ec2"]}', Event=event)["Result"] is False
    with pytest.raises(ClientError) as bad:
        events.test_event_pattern(EventPattern='{"source": "aws.ecs"}', Event=event)
    assert bad.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert bad.value.response["Error"]["Message"].startswith(
        'Event pattern is not valid. Reason: "source" must be an object or an array'
    )
    with pytest.raises(ClientError) as no_envelope:
        events.test_event_pattern(EventPattern='{"source": ["x"]}', Event='{"source": "x"}')
    assert no_envelope.value.response["Error"]["Message"] == "Parameter Event is not valid."


def test_put_rule_refuses_a_bad_pattern_with_eventbridges_reason(cronbridge_server: Any) -> None:
    with pytest.raises(ClientError) as refused:
        cronbridge_server.client("events").put_rule(Name="bad", EventPattern='{"detail": {"n": [{"numeric": 10}]}}')
    assert refused.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert "Value of numeric must be an array." in refused.value.response["Error"]["Message"]
