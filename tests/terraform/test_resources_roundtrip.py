"""Every resource type: create, no-op, update in place, replace, destroy, checked on the server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.ecs import active_clusters
from fixtures.terraform import Folder, write

Check = Callable[[Any], Any]

TASK = """
resource "aws_ecs_task_definition" "td" {
  family                   = "rt"
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  requires_compatibilities = ["FARGATE"]
  container_definitions = jsonencode([{ name = "app", image = "busybox", essential = true,
                                        command = ["echo", "%s"] }])
}
"""

RULE = """
resource "aws_cloudwatch_event_rule" "r" {
  name                = "%s"
  schedule_expression = "%s"
}
"""

TARGET = """
resource "aws_ecs_cluster" "c" { name = "rt" }
resource "aws_cloudwatch_event_rule" "r" {
  name                = "rt"
  schedule_expression = "rate(1 hour)"
}
resource "aws_cloudwatch_event_target" "t" {
  rule      = aws_cloudwatch_event_rule.r.name
  target_id = "%s"
  arn       = aws_ecs_cluster.c.arn
  role_arn  = "arn:aws:iam::000000000000:role/events"
  input     = jsonencode({ containerOverrides = [{ name = "app", command = ["echo", "%s"] }] })
  ecs_target {
    task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/rt:1"
    launch_type         = "FARGATE"
    network_configuration {
      subnets = ["subnet-1"]
    }
  }
  retry_policy {
    maximum_retry_attempts       = 3
    maximum_event_age_in_seconds = 600
  }
}
"""


def _targets(server: Any) -> list[dict[str, Any]]:
    try:
        return list(server.client("events").list_targets_by_rule(Rule="rt")["Targets"])
    except server.client("events").exceptions.ResourceNotFoundException:
        return []


def _rule(server: Any, name: str) -> dict[str, Any] | None:
    rules = server.client("events").list_rules(NamePrefix=name)["Rules"]
    return next((r for r in rules if r["Name"] == name), None)


def _cluster_names(server: Any) -> list[str]:
    arns = active_clusters(server.client("ecs"))
    return sorted(a.rsplit("/", 1)[-1] for a in arns)


def _group(server: Any, name: str) -> dict[str, Any] | None:
    groups = server.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((g for g in groups if g["logGroupName"] == name), None)


def _queue_attrs(server: Any, name: str) -> dict[str, str] | None:
    sqs = server.client("sqs")
    urls = sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    url = next((u for u in urls if u.rsplit("/", 1)[-1] == name), None)
    if url is None:
        return None
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def _queue_tags(server: Any, name: str) -> dict[str, str]:
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return dict(sqs.list_queue_tags(QueueUrl=url).get("Tags", {}))


def _active_task_commands(server: Any) -> list[list[str]]:
    ecs = server.client("ecs")
    arns = ecs.list_task_definitions(familyPrefix="rt", status="ACTIVE")["taskDefinitionArns"]
    found = [ecs.describe_task_definition(taskDefinition=a)["taskDefinition"] for a in arns]
    return [d["containerDefinitions"][0]["command"] for d in found]


SCHEDULE = """
resource "aws_scheduler_schedule_group" "g" {
  name = "%s"
}
resource "aws_scheduler_schedule" "s" {
  name                         = "%s"
  group_name                   = aws_scheduler_schedule_group.g.name
  schedule_expression          = "%s"
  schedule_expression_timezone = "Europe/Paris"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = "arn:aws:ecs:us-east-1:000000000000:cluster/rt"
    role_arn = "arn:aws:iam::000000000000:role/scheduler"
    input    = jsonencode({ containerOverrides = [{ name = "app", command = ["echo", "hi"] }] })
    ecs_parameters {
      task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/rt:1"
      launch_type         = "FARGATE"
      network_configuration {
        subnets = ["subnet-1"]
      }
    }
    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 120
    }
  }
}
"""


def _schedules(server: Any) -> list[tuple[str, str, str, str]]:
    scheduler = server.client("scheduler")
    out = []
    for group in scheduler.list_schedule_groups()["ScheduleGroups"]:
        for item in scheduler.list_schedules(GroupName=group["Name"])["Schedules"]:
            full = scheduler.get_schedule(Name=item["Name"], GroupName=group["Name"])
            out.append((group["Name"], full["Name"], full["ScheduleExpression"], full["ScheduleExpressionTimezone"]))
    return sorted(out)


TRUST = """jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole",
  Principal = { Service = "%s" } }] })"""

ROLE = (
    """
resource "aws_iam_role" "r" {
  name               = "%s"
  assume_role_policy = """
    + TRUST
    + """
  description        = "%s"
}
"""
)

ALLOW = """jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "%s", Resource = "*" }] })"""

POLICY = (
    """
resource "aws_iam_policy" "p" {
  name   = "%s"
  policy = """
    + ALLOW
    + """
}
"""
)

INLINE = (
    """
resource "aws_iam_role" "r" {
  name               = "%s"
  assume_role_policy = """
    + TRUST % "ecs-tasks.amazonaws.com"
    + """
}
resource "aws_iam_role_policy" "i" {
  name   = "inline"
  role   = aws_iam_role.r.name
  policy = """
    + ALLOW
    + """
}
"""
)

ATTACHMENT = (
    """
resource "aws_iam_role" "r" {
  name               = "attached"
  assume_role_policy = """
    + TRUST % "ecs-tasks.amazonaws.com"
    + """
}
resource "aws_iam_policy" "p" {
  for_each = toset_like
  name     = each.key
  policy   = """
    + ALLOW % "logs:PutLogEvents"
    + """
}
resource "aws_iam_role_policy_attachment" "a" {
  role       = aws_iam_role.r.name
  policy_arn = aws_iam_policy.p["%s"].arn
}
"""
).replace("toset_like", "{ one = 1, two = 2 }")


def _roles(server: Any) -> list[tuple[str, str, str]]:
    iam = server.client("iam")
    out = []
    for role in iam.list_roles()["Roles"]:
        doc = role["AssumeRolePolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        out.append((role["RoleName"], doc["Statement"][0]["Principal"]["Service"], role.get("Description", "")))
    return sorted(out)


def _policies(server: Any) -> list[tuple[str, str, int]]:
    iam = server.client("iam")
    out = []
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        doc = version["PolicyVersion"]["Document"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
        out.append((policy["PolicyName"], doc["Statement"][0]["Action"], len(versions)))
    return sorted(out)


def _inline(server: Any) -> list[tuple[str, str, str]]:
    iam = server.client("iam")
    out = []
    for role in iam.list_roles()["Roles"]:
        for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
            doc = json.loads(doc) if isinstance(doc, str) else doc
            out.append((role["RoleName"], name, doc["Statement"][0]["Action"]))
    return sorted(out)


def _attached(server: Any) -> list[str]:
    iam = server.client("iam")
    try:
        found = iam.list_attached_role_policies(RoleName="attached")["AttachedPolicies"]
    except iam.exceptions.NoSuchEntityException:
        return []
    return sorted(p["PolicyName"] for p in found)


@dataclass
class Case:
    """One type: three configurations and what the server shows after each."""

    name: str
    first: str
    updated: str | None
    replaced: str
    state: Check
    expected: tuple[Any, Any, Any]
    gone: Any


CASES = [
    Case(
        "aws_ecs_cluster",
        'resource "aws_ecs_cluster" "c" { name = "one" }',
        None,
        'resource "aws_ecs_cluster" "c" { name = "two" }',
        _cluster_names,
        (["one"], None, ["two"]),
        [],
    ),
    Case(
        "aws_ecs_task_definition",
        TASK % "a",
        None,
        TASK % "b",
        _active_task_commands,
        ([["echo", "a"]], None, [["echo", "b"]]),
        [],
    ),
    Case(
        "aws_cloudwatch_event_rule",
        RULE % ("one", "rate(1 hour)"),
        RULE % ("one", "cron(0 3 * * ? *)"),
        RULE % ("two", "cron(0 3 * * ? *)"),
        lambda s: [(r["Name"], r["ScheduleExpression"]) for r in [_rule(s, "one"), _rule(s, "two")] if r],
        (
            [("one", "rate(1 hour)")],
            [("one", "cron(0 3 * * ? *)")],
            [("two", "cron(0 3 * * ? *)")],
        ),
        [],
    ),
    Case(
        "aws_cloudwatch_event_target",
        TARGET % ("t1", "a"),
        TARGET % ("t1", "b"),
        TARGET % ("t2", "b"),
        lambda s: [(t["Id"], t["Input"], t["RetryPolicy"]["MaximumRetryAttempts"]) for t in _targets(s)],
        (
            [("t1", '{"containerOverrides":[{"name":"app","command":["echo","a"]}]}', 3)],
            [("t1", '{"containerOverrides":[{"name":"app","command":["echo","b"]}]}', 3)],
            [("t2", '{"containerOverrides":[{"name":"app","command":["echo","b"]}]}', 3)],
        ),
        [],
    ),
    Case(
        "aws_cloudwatch_log_group",
        'resource "aws_cloudwatch_log_group" "g" {\n  name = "/rt/one"\n  retention_in_days = 7\n}',
        'resource "aws_cloudwatch_log_group" "g" {\n  name = "/rt/one"\n  retention_in_days = 14\n}',
        'resource "aws_cloudwatch_log_group" "g" {\n  name = "/rt/two"\n  retention_in_days = 14\n}',
        lambda s: [
            (g["logGroupName"], g.get("retentionInDays")) for g in [_group(s, "/rt/one"), _group(s, "/rt/two")] if g
        ],
        ([("/rt/one", 7)], [("/rt/one", 14)], [("/rt/two", 14)]),
        [],
    ),
    Case(
        "aws_sqs_queue",
        'resource "aws_sqs_queue" "q" {\n  name = "one"\n}',
        'resource "aws_sqs_queue" "q" {\n  name = "one"\n  delay_seconds = 5\n  tags = { team = "a" }\n}',
        'resource "aws_sqs_queue" "q" {\n  name = "two"\n  delay_seconds = 5\n}',
        lambda s: [(n, a["DelaySeconds"], _queue_tags(s, n)) for n in ("one", "two") if (a := _queue_attrs(s, n))],
        ([("one", "0", {})], [("one", "5", {"team": "a"})], [("two", "5", {})]),
        [],
    ),
    Case(
        "aws_scheduler_schedule",
        SCHEDULE % ("grp", "one", "cron(0 3 * * ? *)"),
        SCHEDULE % ("grp", "one", "rate(5 minutes)"),
        SCHEDULE % ("grp", "two", "rate(5 minutes)"),
        _schedules,
        (
            [("grp", "one", "cron(0 3 * * ? *)", "Europe/Paris")],
            [("grp", "one", "rate(5 minutes)", "Europe/Paris")],
            [("grp", "two", "rate(5 minutes)", "Europe/Paris")],
        ),
        [],
    ),
    Case(
        "aws_iam_role",
        ROLE % ("one", "ecs-tasks.amazonaws.com", "first"),
        ROLE % ("one", "events.amazonaws.com", "second"),
        ROLE % ("two", "events.amazonaws.com", "second"),
        _roles,
        (
            [("one", "ecs-tasks.amazonaws.com", "first")],
            [("one", "events.amazonaws.com", "second")],
            [("two", "events.amazonaws.com", "second")],
        ),
        [],
    ),
    Case(
        "aws_iam_policy",
        POLICY % ("one", "ecs:RunTask"),
        POLICY % ("one", "ecs:StopTask"),
        POLICY % ("two", "ecs:StopTask"),
        _policies,
        ([("one", "ecs:RunTask", 1)], [("one", "ecs:StopTask", 2)], [("two", "ecs:StopTask", 1)]),
        [],
    ),
    Case(
        "aws_iam_role_policy",
        INLINE % ("holder", "ecs:RunTask"),
        INLINE % ("holder", "ecs:StopTask"),
        INLINE % ("other", "ecs:StopTask"),
        _inline,
        (
            [("holder", "inline", "ecs:RunTask")],
            [("holder", "inline", "ecs:StopTask")],
            [("other", "inline", "ecs:StopTask")],
        ),
        [],
    ),
    Case(
        "aws_iam_role_policy_attachment",
        ATTACHMENT % "one",
        None,
        ATTACHMENT % "two",
        _attached,
        (["one"], None, ["two"]),
        [],
    ),
    Case(
        "aws_scheduler_schedule_group",
        'resource "aws_scheduler_schedule_group" "g" { name = "one" }',
        None,
        'resource "aws_scheduler_schedule_group" "g" { name = "two" }',
        lambda s: sorted(g["Name"] for g in s.client("scheduler").list_schedule_groups()["ScheduleGroups"]),
        (["default", "one"], None, ["default", "two"]),
        ["default"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_resource_type_round_trips(case: Case, tmp_path: Path, cronbridge_server: Any) -> None:
    folder = Folder(write(tmp_path, {"main.tf": case.first}), cronbridge_server)
    created = folder.apply()
    assert not created.has_errors, folder.output
    assert "Apply complete!" in folder.output
    assert case.state(cronbridge_server) == case.expected[0]

    again = folder.plan()
    assert not again.has_changes, again.render()
    assert "No changes." in again.render()

    if case.updated is not None:
        write(tmp_path, {"main.tf": case.updated})
        planned = folder.plan()
        assert {c.action.value for c in planned.changes} >= {"update"}, planned.render()
        assert "will be updated in place" in planned.render()
        folder.apply()
        assert "0 added, 1 changed, 0 destroyed" in folder.output
        assert case.state(cronbridge_server) == case.expected[1]

    write(tmp_path, {"main.tf": case.replaced})
    planned = folder.plan()
    assert "must be replaced" in planned.render() and "# forces replacement" in planned.render()
    folder.apply()
    assert not folder.plan().has_changes
    assert case.state(cronbridge_server) == case.expected[2]

    folder.destroy()
    assert case.state(cronbridge_server) == case.gone
    assert "Destroy complete!" in folder.output
    assert not folder.plan(vars=None).changes or all(c.action.value == "create" for c in folder.plan().changes)


def test_a_second_apply_with_no_change_does_nothing(tmp_path: Path, cronbridge_server: Any) -> None:
    folder = Folder(write(tmp_path, {"main.tf": TARGET % ("t1", "a")}), cronbridge_server)
    folder.apply()
    serial = (tmp_path / "cronbridge.tfstate.json").read_text()
    result = folder.apply()
    assert not result.has_changes
    assert "No changes. Your infrastructure matches the configuration." in folder.output
    assert "Creating" not in folder.output and "Modifying" not in folder.output
    assert (tmp_path / "cronbridge.tfstate.json").read_text() == serial


def test_the_plan_shows_attribute_diffs_for_updates_and_replacements(tmp_path: Path, cronbridge_server: Any) -> None:
    folder = Folder(
        write(tmp_path, {"main.tf": CASES[4].first + "\n" + RULE % ("r1", "rate(1 hour)")}), cronbridge_server
    )
    folder.apply()
    write(tmp_path, {"main.tf": CASES[4].updated + "\n" + RULE % ("r2", "rate(1 hour)")})  # type: ignore[operator]
    text = folder.plan().render()
    assert "# aws_cloudwatch_log_group.g will be updated in place" in text
    assert re.search(r'~ resource "aws_cloudwatch_log_group" "g" \{\n +~ retention_in_days += 7 -> 14\n', text)
    assert "# aws_cloudwatch_event_rule.r must be replaced" in text
    assert re.search(
        r'-/\+ resource "aws_cloudwatch_event_rule" "r" \{\n +~ name += "r1" -> "r2" # forces replacement', text
    )
    assert re.search(r'~ arn += "arn:aws:events:us-east-1:\d{12}:rule/r1" -> \(known after apply\)', text)
    assert "Plan: 1 to add, 1 to change, 1 to destroy." in text
