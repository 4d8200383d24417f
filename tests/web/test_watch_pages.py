"""The console's pages for failures: alarms with state and history, a pattern rule's matches, the query box."""

from __future__ import annotations

import html
import json
import time
from typing import Any

from fixtures.seed import credentials
from web.test_console import Browser


def signed_in(server: Any) -> Browser:
    browser = Browser(server.endpoint)
    assert browser.sign_in(*credentials(server)).status == 303
    return browser


def test_alarms_list_and_alarm_page_with_history(cronbridge_server: Any) -> None:
    cloudwatch = cronbridge_server.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="batch-errors",
        Namespace="Batch",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="batch-errors", StateValue="ALARM", StateReason="testing the page")
    browser = signed_in(cronbridge_server)
    listing = browser.get("/console/alarms")
    assert listing.status == 200 and "batch-errors" in listing.body and "ALARM" in listing.body
    detail = browser.get("/console/alarms/batch-errors")
    assert detail.status == 200
    assert "testing the page" in detail.body and "Alarm updated from INSUFFICIENT_DATA to ALARM" in detail.body
    assert browser.get("/console/alarms/nope").status == 404


def test_a_pattern_rule_page_shows_its_pattern_and_matched_events(cronbridge_server: Any) -> None:
    events = cronbridge_server.client("events")
    events.put_rule(Name="watch", EventPattern=json.dumps({"source": ["page.app"]}))
    event_id = events.put_events(Entries=[{"Source": "page.app", "DetailType": "Seen", "Detail": "{}"}])["Entries"][0]
    body = signed_in(cronbridge_server).get("/console/rules/watch").body
    assert 'id="event-pattern"' in body and "page.app" in body
    assert event_id["EventId"] in body and "Seen" in body


def test_the_log_group_page_runs_a_logs_insights_query(cronbridge_server: Any) -> None:
    logs = cronbridge_server.client("logs")
    logs.create_log_group(logGroupName="/q")
    logs.create_log_stream(logGroupName="/q", logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/q",
        logStreamName="s",
        logEvents=[{"timestamp": now - 1000, "message": "ERROR one"}, {"timestamp": now, "message": "INFO two"}],
    )
    browser = signed_in(cronbridge_server)
    body = browser.get(
        "/console/logs/group?name=/q&query=filter+%40message+like+%2FERROR%2F+%7C+stats+count%28%29"
    ).body
    assert 'id="query-results"' in body and "count()" in body and "1 records matched" in body
    bad = browser.get("/console/logs/group?name=/q&query=fields+a+b").body
    assert "MalformedQueryException" in bad


def test_a_rule_on_another_bus_has_its_page_with_deliveries_in_its_history(cronbridge_server: Any) -> None:
    events, sqs = cronbridge_server.client("events"), cronbridge_server.client("sqs")
    url = sqs.create_queue(QueueName="page-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name="orders")
    events.put_rule(Name="paid", EventBusName="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="paid", EventBusName="orders", Targets=[{"Id": "to-queue", "Arn": arn}])
    sent = events.put_events(Entries=[{"Source": "shop", "DetailType": "Paid", "Detail": '{"n": 7}',
                                       "EventBusName": "orders"}])["Entries"][0]["EventId"]
    browser = signed_in(cronbridge_server)
    buses = browser.get("/console/buses").body
    assert 'href="/console/rules/paid?bus=orders"' in buses and "default" in buses
    deadline = time.monotonic() + 10
    body = ""
    while time.monotonic() < deadline and "/console/deliveries/" not in body:
        body = browser.get("/console/rules/paid?bus=orders").body
    assert 'id="event-pattern"' in body and 'id="invocations"' in body
    assert "AccessDeniedException" in body and "to-queue" in body  # the queue has no policy for EventBridge
    link = body.split('href="/console/deliveries/', 1)[1].split('"', 1)[0]
    delivery = browser.get(f"/console/deliveries/{link}")
    assert delivery.status == 200 and sent in delivery.body and '"n": 7' in html.unescape(delivery.body)
    assert "AccessDeniedException" in delivery.body
    assert browser.get("/console/rules/paid").status == 404  # not on the default bus
    assert browser.get("/console/deliveries/999999").status == 404
