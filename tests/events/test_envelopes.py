"""Events as EventBridge shapes them: PutEvents entries (sizes, refusals), ECS task and alarm state changes."""

from __future__ import annotations

import json

import pytest

from cronbridge.events.envelopes import (
    AlarmState,
    Entry,
    alarm_configuration,
    alarm_state_change,
    ecs_task_state_change,
    entry_problem,
    entry_size,
    from_entry,
    request_too_large,
)
from cronbridge.events.pattern import FlatEvent, compile_pattern
from cronbridge.model.ecs import Container, StopCode, Task, TaskStatus

AT = 1_700_000_000.25


def test_entry_size_is_counted_as_aws_documents_it() -> None:
    entry = Entry("my.app", "Thing Happened", '{"k": "é"}', ("arn:1", "arn:2"), time=AT)
    assert entry_size(entry) == 14 + 6 + 14 + len('{"k": "é"}'.encode()) + 5 + 5
    assert not request_too_large([entry])
    assert request_too_large([Entry("s", "t", json.dumps({"x": "a" * 262_144}))])


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            Entry(None, "t", "{}"),
            ("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."),
        ),
        (
            Entry("s", None, "{}"),
            ("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
        ),
        (
            Entry("s", "t", None),
            ("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."),
        ),
        (Entry("s", "t", '"a string"'), ("MalformedDetail", "Detail is malformed.")),
        (Entry("s", "t", "[1]"), ("MalformedDetail", "Detail is malformed.")),
        (Entry("s", "t", "{bad"), ("MalformedDetail", "Detail is malformed.")),
        (Entry("s", "t", '{"ok": 1}'), None),
    ],
)
def test_an_entry_eventbridge_refuses_fails_alone(entry: Entry, problem: tuple[str, str] | None) -> None:
    assert entry_problem(entry) == problem


def test_an_entry_becomes_an_event_in_eventbridges_shape() -> None:
    event = from_entry(Entry("my.app", "Thing", '{"a": 1}', ("r1",)), "id-1", "123456789012", "eu-west-1", AT)
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert event["time"] == "2023-11-14T22:13:20Z"
    assert event["detail"] == {"a": 1} and event["resources"] == ["r1"]


def test_a_stopped_task_gives_an_ecs_task_state_change_the_seeds_rule_matches() -> None:
    task = Task(
        task_arn="arn:aws:ecs:us-east-1:123456789012:task/default/abc",
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/default",
        task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/batch:1",
        last_status=TaskStatus.STOPPED,
        desired_status="STOPPED",
        containers=[Container(name="batch", exit_code=1, last_status="STOPPED", task_arn="t")],
        stop_code=StopCode.ESSENTIAL_CONTAINER_EXITED,
        stopped_reason="Essential container in task exited",
        created_at=AT - 10,
        stopped_at=AT,
    )
    event = ecs_task_state_change(task, AT, "id-2", "123456789012", "us-east-1")
    assert event["source"] == "aws.ecs" and event["detail-type"] == "ECS Task State Change"
    assert event["resources"] == [task.task_arn]
    detail = event["detail"]
    assert detail["containers"][0]["exitCode"] == 1
    assert detail["stopCode"] == "EssentialContainerExited" and detail["lastStatus"] == "STOPPED"
    assert detail["stoppedAt"] == "2023-11-14T22:13:20.250Z"
    pattern = compile_pattern(
        '{"source":["aws.ecs"],"detail-type":["ECS Task State Change"],'
        '"detail":{"lastStatus":["STOPPED"],"stopCode":["EssentialContainerExited"]}}'
    )
    assert pattern.matches(FlatEvent.from_text(json.dumps(event)))


def test_an_alarm_state_change_event() -> None:
    config = alarm_configuration("errors", "Batch", "Errors", {}, 60, "Sum")
    event = alarm_state_change(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:batch-errors",
        "batch-errors",
        config,
        AlarmState("ALARM", "Threshold Crossed", "{}", AT),
        AlarmState("OK", "ok", "", AT - 60),
        "id-3",
        "123456789012",
        "us-east-1",
    )
    assert event["source"] == "aws.cloudwatch" and event["detail-type"] == "CloudWatch Alarm State Change"
    assert event["detail"]["state"]["value"] == "ALARM"
    assert event["detail"]["previousState"]["value"] == "OK"
    assert event["detail"]["state"]["timestamp"] == "2023-11-14T22:13:20.250+0000"
    assert event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["name"] == "Errors"
