"""A pattern rule's deliveries in the invocation history (GET /_cronbridge/invocations), beside scheduled invocations:
each with its outcome, the event it delivered, the tasks an ECS target started or the message an SQS target got."""

from __future__ import annotations

import json
import time
from typing import Any

from cronbridge import demo
from fixtures.seed import create_seed, put_target


def history(server: Any, query: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = server.get(f"/_cronbridge/invocations?{query}", region=demo.REGION)["invocations"]
        if len(rows) >= count and all(r["outcome"] != "PENDING" for r in rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"{query}: {rows}")


def queue_arn(server: Any, name: str, allow: bool) -> str:
    sqs = server.client("sqs", region=demo.REGION)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    if allow:
        statement = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": "sqs:SendMessage", "Resource": arn}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [statement]})})
    return arn


def test_a_pattern_rules_deliveries_are_in_the_history_with_their_outcome(cronbridge_server: Any) -> None:
    seed = create_seed(cronbridge_server)
    events, iam = (cronbridge_server.client(n, region=demo.REGION) for n in ("events", "iam"))
    events.put_rule(Name="on-order", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="on-order", Targets=[
        {"Id": "open", "Arn": queue_arn(cronbridge_server, "open", allow=True)},
        {"Id": "closed", "Arn": queue_arn(cronbridge_server, "closed", allow=False)},
    ])
    role = iam.get_role(RoleName="EcsEventsRole-sample")["Role"]["Arn"]
    put_target(events, "on-order", seed["cluster"], seed["task_definition"], role)  # and the seed's task (id hello)
    put = events.put_events(Entries=[{"Source": "shop", "DetailType": "Order Placed", "Detail": '{"n": 1}'}])
    event_id = put["Entries"][0]["EventId"]
    rows = history(cronbridge_server, "rule=on-order", 3)
    by_target = {r["target"]: r for r in rows}
    assert set(by_target) == {"open", "closed", "hello"}
    assert all(r["trigger"] == "event" and r["eventId"] == event_id and r["id"] is None for r in rows)
    assert all(r["eventSource"] == "shop" and r["eventDetailType"] == "Order Placed" for r in rows)
    assert by_target["open"]["outcome"] == "SUCCEEDED" and by_target["open"]["delivered"]
    assert (by_target["closed"]["outcome"], by_target["closed"]["errorCode"]) == ("FAILED", "AccessDeniedException")
    assert by_target["hello"]["outcome"] == "SUCCEEDED"
    [task_arn] = by_target["hello"]["taskArns"]
    assert task_arn.startswith(f"arn:aws:ecs:{demo.REGION}:")
    assert all(isinstance(r["deliveryId"], int) for r in rows)
    everything = cronbridge_server.get("/_cronbridge/invocations", region=demo.REGION)["invocations"]
    assert {r["deliveryId"] for r in rows} <= {r.get("deliveryId") for r in everything}
    assert cronbridge_server.get("/_cronbridge/invocations?rule=on-order&bus=other",
                                 region=demo.REGION)["invocations"] == []
    assert cronbridge_server.get("/_cronbridge/invocations?rule=on-order")["invocations"] == []  # us-east-1's


def test_scheduled_invocations_and_deliveries_of_one_rule_share_its_history(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events", region=demo.REGION)
    arn = queue_arn(cronbridge_server, "both", allow=True)
    events.put_rule(Name="both", ScheduleExpression="rate(1 day)", EventPattern=json.dumps({"source": ["both.app"]}))
    events.put_targets(Rule="both", Targets=[{"Id": "q", "Arn": arn}])
    ran = cronbridge_server.post("/_cronbridge/rules/both/run-now", region=demo.REGION)
    assert [i["outcome"] for i in ran["invocations"]] == ["SUCCEEDED"]
    events.put_events(Entries=[{"Source": "both.app", "DetailType": "x", "Detail": "{}"}])
    rows = history(cronbridge_server, "rule=both", 2)
    assert [r["trigger"] for r in rows] == ["event", "manual"]  # newest first
    assert [r["outcome"] for r in rows] == ["SUCCEEDED", "SUCCEEDED"]
