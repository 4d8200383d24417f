"""Each wire operation's IAM action and resource ARNs, as AWS's Service Authorization Reference names them."""

from __future__ import annotations

from typing import Any

import pytest

from cronbridge.api.authz import Where, needs

A = "123456789012"
TD = f"arn:aws:ecs:eu-west-1:{A}:task-definition/job:7"
ROLE = f"arn:aws:iam::{A}:role/exec"
WHERE = Where(
    "eu-west-1",
    A,
    lambda ref: TD if ref in ("job", "job:7", TD) else None,
    lambda ref: [ROLE] if ref in ("job", "job:7", TD) else [],
)


def first(service: str, operation: str, params: dict[str, Any]) -> tuple[str, list[str]]:
    found = needs(service, operation, params, WHERE)[0]
    return found.action, found.resources


@pytest.mark.parametrize(
    ("service", "operation", "params", "action", "resources"),
    [
        ("ecs", "RunTask", {"taskDefinition": "job"}, "ecs:RunTask", [TD]),
        (
            "ecs",
            "RunTask",
            {"taskDefinition": "other:3"},
            "ecs:RunTask",
            [f"arn:aws:ecs:eu-west-1:{A}:task-definition/other:3"],
        ),
        (
            "ecs",
            "DescribeTasks",
            {"cluster": "c", "tasks": ["abc"]},
            "ecs:DescribeTasks",
            [f"arn:aws:ecs:eu-west-1:{A}:task/c/abc"],
        ),
        (
            "ecs",
            "StopTask",
            {"task": f"arn:aws:ecs:eu-west-1:{A}:task/c/abc"},
            "ecs:StopTask",
            [f"arn:aws:ecs:eu-west-1:{A}:task/c/abc"],
        ),
        ("ecs", "DescribeClusters", {}, "ecs:DescribeClusters", [f"arn:aws:ecs:eu-west-1:{A}:cluster/default"]),
        ("ecs", "ListTaskDefinitions", {}, "ecs:ListTaskDefinitions", ["*"]),
        ("events", "PutRule", {"Name": "hello"}, "events:PutRule", [f"arn:aws:events:eu-west-1:{A}:rule/hello"]),
        (
            "events",
            "PutTargets",
            {"Rule": "r", "EventBusName": "bus"},
            "events:PutTargets",
            [f"arn:aws:events:eu-west-1:{A}:rule/bus/r"],
        ),
        (
            "logs",
            "PutLogEvents",
            {"logGroupName": "/ecs/x", "logStreamName": "s/1"},
            "logs:PutLogEvents",
            [f"arn:aws:logs:eu-west-1:{A}:log-group:/ecs/x:log-stream:s/1"],
        ),
        (
            "logs",
            "CreateLogGroup",
            {"logGroupName": "/ecs/x"},
            "logs:CreateLogGroup",
            [f"arn:aws:logs:eu-west-1:{A}:log-group:/ecs/x:log-stream:"],
        ),
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": f"http://h/{A}/q"},
            "sqs:SendMessage",
            [f"arn:aws:sqs:eu-west-1:{A}:q"],
        ),
        ("iam", "CreateRole", {"RoleName": "r"}, "iam:CreateRole", [f"arn:aws:iam::{A}:role/r"]),
        (
            "iam",
            "AttachRolePolicy",
            {"RoleName": "r", "PolicyArn": "p"},
            "iam:AttachRolePolicy",
            [f"arn:aws:iam::{A}:role/r"],
        ),
        ("iam", "CreatePolicy", {"PolicyName": "p"}, "iam:CreatePolicy", [f"arn:aws:iam::{A}:policy/p"]),
        ("iam", "GetUser", {"UserName": "bob"}, "iam:GetUser", [f"arn:aws:iam::{A}:user/bob"]),
        ("sts", "AssumeRole", {"RoleArn": ROLE}, "sts:AssumeRole", [ROLE]),
        (
            "scheduler",
            "CreateSchedule",
            {"Name": "s"},
            "scheduler:CreateSchedule",
            [f"arn:aws:scheduler:eu-west-1:{A}:schedule/default/s"],
        ),
        (
            "scheduler",
            "GetSchedule",
            {"Name": "s", "GroupName": "g"},
            "scheduler:GetSchedule",
            [f"arn:aws:scheduler:eu-west-1:{A}:schedule/g/s"],
        ),
        (
            "scheduler",
            "DeleteScheduleGroup",
            {"Name": "g"},
            "scheduler:DeleteScheduleGroup",
            [f"arn:aws:scheduler:eu-west-1:{A}:schedule-group/g"],
        ),
        ("scheduler", "SomethingNew", {}, "scheduler:SomethingNew", ["*"]),
    ],
)
def test_operation_to_action_and_resources(
    service: str, operation: str, params: dict[str, Any], action: str, resources: list[str]
) -> None:
    assert first(service, operation, params) == (action, resources)


def test_get_caller_identity_needs_no_permission() -> None:
    assert needs("sts", "GetCallerIdentity", {}, WHERE) == []


def test_run_task_passes_the_definition_roles_and_the_overrides() -> None:
    other = f"arn:aws:iam::{A}:role/other"
    found = needs("ecs", "RunTask", {"taskDefinition": "job", "overrides": {"taskRoleArn": other}}, WHERE)
    assert [(n.action, n.resources) for n in found] == [
        ("ecs:RunTask", [TD]),
        ("iam:PassRole", [ROLE]),
        ("iam:PassRole", [other]),
    ]
    assert found[1].context == {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    assert found[0].context == {"ecs:cluster": f"arn:aws:ecs:eu-west-1:{A}:cluster/default"}


def test_run_task_with_tags_needs_tag_resource_on_create() -> None:
    found = needs("ecs", "RunTask", {"taskDefinition": "job", "tags": [{"key": "team", "value": "x"}]}, WHERE)
    tag = found[-1]
    assert (tag.action, tag.resources) == ("ecs:TagResource", [f"arn:aws:ecs:eu-west-1:{A}:task/default/*"])
    assert tag.context == {"ecs:CreateAction": "RunTask", "aws:TagKeys": ["team"]}


def test_handing_a_role_to_a_service_needs_pass_role_to_that_service() -> None:
    rule = needs("events", "PutTargets", {"Rule": "r", "Targets": [{"Id": "1", "Arn": "c", "RoleArn": ROLE}]}, WHERE)
    assert [(n.action, n.resources, n.context) for n in rule[1:]] == [
        ("iam:PassRole", [ROLE], {"iam:PassedToService": "events.amazonaws.com"})
    ]
    schedule = needs("scheduler", "CreateSchedule", {"Name": "s", "Target": {"Arn": "c", "RoleArn": ROLE}}, WHERE)
    assert schedule[1].context == {"iam:PassedToService": "scheduler.amazonaws.com"}
    assert len(needs("events", "PutTargets", {"Rule": "r", "Targets": [{"Id": "1", "Arn": "c"}]}, WHERE)) == 1
