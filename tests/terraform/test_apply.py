"""Apply and destroy against a real server: meta-arguments, computed values, failures, refresh, drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cronbridge.terraform import state as state_file
from fixtures.ecs import active_clusters
from fixtures.terraform import Folder, write

FLOW = {
    "main.tf": """
variable "queues" {
  type    = list(string)
  default = ["a", "b"]
}
locals {
  prefix = "flow"
}
resource "aws_ecs_task_definition" "td" {
  family                = "${local.prefix}-td"
  container_definitions = jsonencode([{ name = "app", image = "busybox", essential = true, memory = 128 }])
}
resource "aws_sqs_queue" "counted" {
  count = length(var.queues)
  name  = "${local.prefix}-${var.queues[count.index]}"
  policy = templatefile("${path.module}/policy.json", {
    task_definition_arn = aws_ecs_task_definition.td.arn
  })
}
resource "aws_cloudwatch_log_group" "each" {
  for_each          = { short = 1, long = 30 }
  name              = "/${local.prefix}/${each.key}"
  retention_in_days = each.value
}
resource "aws_ecs_cluster" "last" {
  name       = "${local.prefix}-last"
  depends_on = [aws_cloudwatch_log_group.each]
}
output "queue_urls" {
  value = aws_sqs_queue.counted[*].url
}
output "task_definition_arn" {
  value = aws_ecs_task_definition.td.arn
}
""",
    "policy.json": """{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
                 "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": "${task_definition_arn}"}}}]
}
""",
}


def _queue_policy(server: Any, name: str) -> dict[str, Any]:
    sqs = server.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
    return dict(json.loads(attrs["Policy"]))


def _groups(server: Any, prefix: str) -> dict[str, int | None]:
    found = server.client("logs").describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    return {g["logGroupName"]: g.get("retentionInDays") for g in found}


def test_count_for_each_depends_on_and_computed_attributes_flow_into_templatefile(
    tmp_path: Path, cronbridge_server: Any
) -> None:
    folder = Folder(write(tmp_path, FLOW), cronbridge_server)
    planned = folder.plan()
    assert [c.address for c in planned.changes] == [
        'aws_cloudwatch_log_group.each["long"]',
        'aws_cloudwatch_log_group.each["short"]',
        "aws_ecs_cluster.last",
        "aws_ecs_task_definition.td",
        "aws_sqs_queue.counted[0]",
        "aws_sqs_queue.counted[1]",
    ]
    assert "policy" in planned.render() and "(known after apply)" in planned.render()

    result = folder.apply()
    assert not result.has_errors, folder.output
    arn = result.outputs["task_definition_arn"]
    assert arn.endswith(":task-definition/flow-td:1")
    for name in ("flow-a", "flow-b"):
        condition = _queue_policy(cronbridge_server, name)["Statement"][0]["Condition"]
        assert condition == {"StringEquals": {"aws:SourceArn": arn}}
    assert _groups(cronbridge_server, "/flow/") == {"/flow/long": 30, "/flow/short": 1}
    lines = [line.split(":")[0] for line in folder.lines if line.endswith("Creation complete")]
    assert lines.index("aws_ecs_cluster.last") > lines.index('aws_cloudwatch_log_group.each["short"]')
    assert lines.index("aws_sqs_queue.counted[0]") > lines.index("aws_ecs_task_definition.td")
    assert [u.rsplit("/", 1)[-1] for u in result.outputs["queue_urls"]] == ["flow-a", "flow-b"]
    assert "Outputs:" in folder.output and "task_definition_arn = " in folder.output

    folder.apply(vars={"queues": '["a"]'})
    assert "aws_sqs_queue.counted[1]: Destruction complete" in folder.output
    assert [u.rsplit("/", 1)[-1] for u in cronbridge_server.client("sqs").list_queues()["QueueUrls"]] == ["flow-a"]
    assert not folder.plan(vars={"queues": '["a"]'}).has_changes


def test_destroy_removes_what_it_created_and_nothing_else(tmp_path: Path, cronbridge_server: Any) -> None:
    server = cronbridge_server
    server.client("ecs").create_cluster(clusterName="theirs")
    server.client("logs").create_log_group(logGroupName="/flow/theirs")
    server.client("sqs").create_queue(QueueName="flow-theirs")
    folder = Folder(write(tmp_path, FLOW), server)
    folder.apply()
    assert folder.destroy() == 6
    assert [a.rsplit("/", 1)[-1] for a in active_clusters(server.client("ecs"))] == ["theirs"]
    assert _groups(server, "/flow/") == {"/flow/theirs": None}
    assert [u.rsplit("/", 1)[-1] for u in server.client("sqs").list_queues()["QueueUrls"]] == ["flow-theirs"]
    ecs = server.client("ecs")
    assert ecs.list_task_definitions(familyPrefix="flow-td", status="ACTIVE")["taskDefinitionArns"] == []
    saved = state_file.load(tmp_path / state_file.FILENAME)
    assert saved.resources == {} and saved.outputs == {}
    assert folder.destroy() == 0 and "No objects need to be destroyed." in folder.output


def test_a_failed_apply_keeps_what_was_created_and_a_rerun_finishes_the_job(
    tmp_path: Path, cronbridge_server: Any
) -> None:
    server = cronbridge_server
    server.client("logs").create_log_group(logGroupName="/flow/short")  # in the way, made by someone else
    folder = Folder(write(tmp_path, FLOW), server)
    failed = folder.apply()
    assert failed.has_errors
    assert 'Error: creating aws_cloudwatch_log_group.each["short"]: ResourceAlreadyExistsException' in folder.output
    assert "on main.tf:" in folder.output and "running the command again finishes the job" in folder.output
    saved = state_file.load(tmp_path / state_file.FILENAME)
    assert list(saved.resources) == ['aws_cloudwatch_log_group.each["long"]']

    server.client("logs").delete_log_group(logGroupName="/flow/short")
    resumed = folder.apply()
    assert not resumed.has_errors, folder.output
    assert "Apply complete! Resources: 5 added, 0 changed, 0 destroyed." in folder.output
    assert 'aws_cloudwatch_log_group.each["long"]: Creating' not in folder.output
    assert len(state_file.load(tmp_path / state_file.FILENAME).resources) == 6
    assert not folder.plan().has_changes


def test_an_unreachable_server_is_an_error_naming_the_resource(tmp_path: Path) -> None:
    class Nowhere:
        endpoint = "http://127.0.0.1:9"

        def client(self, service: str) -> Any:
            import boto3

            return boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name="us-east-1",
                aws_access_key_id="a",
                aws_secret_access_key="b",
            )

    folder = Folder(write(tmp_path, {"main.tf": 'resource "aws_ecs_cluster" "c" { name = "x" }'}), Nowhere())
    result = folder.apply()
    assert result.has_errors
    assert "Error: creating aws_ecs_cluster.c: EndpointConnectionError" in folder.output
    assert state_file.load(tmp_path / state_file.FILENAME).resources == {}


def test_what_was_deleted_outside_cronbridge_is_noted_and_created_again(tmp_path: Path, cronbridge_server: Any) -> None:
    server = cronbridge_server
    folder = Folder(write(tmp_path, FLOW), server)
    folder.apply()
    sqs = server.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="flow-b")["QueueUrl"])
    server.client("logs").delete_log_group(logGroupName="/flow/long")

    planned = folder.plan()
    text = planned.render()
    assert "Note: Objects have changed outside of cronbridge" in text
    assert "  # aws_sqs_queue.counted[1] has been deleted" in text
    assert '  # aws_cloudwatch_log_group.each["long"] has been deleted' in text
    assert {c.address for c in planned.changes if c.action.value == "create"} == {
        "aws_sqs_queue.counted[1]",
        'aws_cloudwatch_log_group.each["long"]',
    }
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in text

    folder.apply()
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in folder.output
    assert _groups(server, "/flow/") == {"/flow/long": 30, "/flow/short": 1}
    assert not folder.plan().has_changes


CHAIN = """
resource "aws_ecs_cluster" "c" { name = "chain" }
resource "aws_ecs_task_definition" "td" {
  family                = "chain"
  container_definitions = jsonencode([{ name = "app", image = "busybox", essential = true, memory = 128,
                                        command = ["echo", "%s"] }])
}
resource "aws_cloudwatch_event_rule" "r" {
  name                = "chain"
  schedule_expression = "rate(1 hour)"
}
resource "aws_cloudwatch_event_target" "t" {
  rule     = aws_cloudwatch_event_rule.r.name
  arn      = aws_ecs_cluster.c.arn
  role_arn = "arn:aws:iam::000000000000:role/events"
  ecs_target {
    task_definition_arn = aws_ecs_task_definition.td.arn
  }
}
"""


def test_a_replaced_task_definition_updates_the_target_that_refers_to_it(
    tmp_path: Path, cronbridge_server: Any
) -> None:
    folder = Folder(write(tmp_path, {"main.tf": CHAIN % "one"}), cronbridge_server)
    folder.apply()
    write(tmp_path, {"main.tf": CHAIN % "two"})
    planned = folder.plan()
    actions = {c.address: c.action.value for c in planned.changes if c.action.value != "no-op"}
    assert actions == {"aws_ecs_task_definition.td": "replace", "aws_cloudwatch_event_target.t": "update"}
    assert '"arn:aws:ecs:us-east-1:000000000000:task-definition/chain:1" -> (known after apply)' in planned.render()
    assert re.search(r'~ container_definitions = jsonencode\(\n(.*\n)*? +- +"one"\n +\+ +"two"\n', planned.render())

    folder.apply()
    target = cronbridge_server.client("events").list_targets_by_rule(Rule="chain")["Targets"][0]
    assert target["EcsParameters"]["TaskDefinitionArn"].endswith(":task-definition/chain:2")
    ecs = cronbridge_server.client("ecs")
    assert ecs.list_task_definitions(familyPrefix="chain", status="ACTIVE")["taskDefinitionArns"] == [
        target["EcsParameters"]["TaskDefinitionArn"]
    ]
    assert not folder.plan().has_changes


QUEUES = """
resource "aws_sqs_queue" "dlq" {
  name_prefix = "jobs-dlq-"
}
resource "aws_sqs_queue" "jobs" {
  name = "jobs"
  %s
}
"""


def test_a_queue_with_a_dead_letter_queue_and_a_generated_name(tmp_path: Path, cronbridge_server: Any) -> None:
    redrive = "redrive_policy = jsonencode({ deadLetterTargetArn = aws_sqs_queue.dlq.arn, maxReceiveCount = 3 })"
    folder = Folder(write(tmp_path, {"main.tf": QUEUES % redrive}), cronbridge_server)
    planned = folder.plan().render()
    assert re.search(r'\+ name += \(known after apply\)\n +\+ name_prefix += "jobs-dlq-"', planned)
    folder.apply()
    sqs = cronbridge_server.client("sqs")
    names = sorted(u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"])
    assert names[0] == "jobs" and names[1].startswith("jobs-dlq-")
    url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"].endswith(":" + names[1])
    assert not folder.plan().has_changes  # the generated name is kept

    write(tmp_path, {"main.tf": QUEUES % ""})
    folder.apply()
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert not folder.plan().has_changes


def test_name_and_name_prefix_together_are_an_error(tmp_path: Path) -> None:
    from cronbridge.terraform import plan

    write(tmp_path, {"main.tf": 'resource "aws_sqs_queue" "q" {\n  name = "a"\n  name_prefix = "b"\n}\n'})
    assert [(str(d.pos), d.summary) for d in plan(tmp_path).diagnostics] == [
        ("main.tf:3", 'aws_sqs_queue.q: "name_prefix" conflicts with "name"')
    ]


TARGET_DETAILS = """
resource "aws_cloudwatch_event_rule" "r" {
  name                = "details"
  schedule_expression = "rate(1 hour)"
}
resource "aws_cloudwatch_event_target" "t" {
  rule     = aws_cloudwatch_event_rule.r.name
  arn      = "arn:aws:ecs:us-east-1:000000000000:cluster/default"
  role_arn = "arn:aws:iam::000000000000:role/events"
  ecs_target {
    task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/batch:1"
    tags                = { team = "batch" }
    propagate_tags      = "TASK_DEFINITION"
    capacity_provider_strategy {
      capacity_provider = "FARGATE_SPOT"
      weight            = 2
    }
  }
  input_transformer {
    input_paths    = { time = "$.time" }
    input_template = "{\\"containerOverrides\\":[{\\"name\\":\\"app\\",\\"command\\":[\\"echo\\",<time>]}]}"
  }
}
resource "aws_scheduler_schedule" "s" {
  name                = "details"
  schedule_expression = "rate(1 hour)"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = "arn:aws:ecs:us-east-1:000000000000:cluster/default"
    role_arn = "arn:aws:iam::000000000000:role/scheduler"
    ecs_parameters {
      task_definition_arn = "arn:aws:ecs:us-east-1:000000000000:task-definition/batch:1"
      tags                = { team = "batch" }
    }
  }
}
"""


def test_target_tags_capacity_providers_and_input_transformers_reach_the_server(
    tmp_path: Path, cronbridge_server: Any
) -> None:
    folder = Folder(write(tmp_path, {"main.tf": TARGET_DETAILS}), cronbridge_server)
    assert not folder.apply().has_errors, folder.output
    target = cronbridge_server.client("events").list_targets_by_rule(Rule="details")["Targets"][0]
    assert target["EcsParameters"]["Tags"] == [{"Key": "team", "Value": "batch"}]
    assert target["EcsParameters"]["PropagateTags"] == "TASK_DEFINITION"
    assert target["EcsParameters"]["CapacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 2}]
    assert target["InputTransformer"]["InputPathsMap"] == {"time": "$.time"}
    schedule = cronbridge_server.client("scheduler").get_schedule(Name="details")
    assert schedule["Target"]["EcsParameters"]["Tags"] == [{"team": "batch"}]
    assert not folder.plan().has_changes


ROLE_INLINE = """
resource "aws_iam_role" "r" {
  name = "with-inline"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow",
    Action = "sts:AssumeRole", Principal = { Service = "ecs-tasks.amazonaws.com" } }] })
  tags = %s
%s
}
"""

INLINE_BLOCK = """  inline_policy {
    name   = "%s"
    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "%s", Resource = "*" }] })
  }
"""


def _role_state(server: Any) -> tuple[dict[str, str], dict[str, str]]:
    iam = server.client("iam")
    names = iam.list_role_policies(RoleName="with-inline")["PolicyNames"]
    docs = {}
    for name in names:
        doc = iam.get_role_policy(RoleName="with-inline", PolicyName=name)["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        docs[name] = doc["Statement"][0]["Action"]
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="with-inline")["Tags"]}
    return docs, tags


def test_a_roles_inline_policies_and_tags_change_in_place(tmp_path: Path, cronbridge_server: Any) -> None:
    one = INLINE_BLOCK % ("logs", "logs:PutLogEvents")
    folder = Folder(write(tmp_path, {"main.tf": ROLE_INLINE % ("{}", one)}), cronbridge_server)
    folder.apply()
    assert _role_state(cronbridge_server) == ({"logs": "logs:PutLogEvents"}, {})

    both = INLINE_BLOCK % ("logs", "logs:CreateLogStream") + INLINE_BLOCK % ("ecr", "ecr:BatchGetImage")
    write(tmp_path, {"main.tf": ROLE_INLINE % ('{ team = "batch" }', both)})
    assert [c.action.value for c in folder.plan().changes] == ["update"]
    folder.apply()
    assert "0 added, 1 changed, 0 destroyed" in folder.output
    assert _role_state(cronbridge_server) == (
        {"logs": "logs:CreateLogStream", "ecr": "ecr:BatchGetImage"},
        {"team": "batch"},
    )

    write(tmp_path, {"main.tf": ROLE_INLINE % ("{}", INLINE_BLOCK % ("ecr", "ecr:BatchGetImage"))})
    folder.apply()
    assert _role_state(cronbridge_server) == ({"ecr": "ecr:BatchGetImage"}, {})
    assert not folder.plan().has_changes
    folder.destroy()
    assert [r["RoleName"] for r in cronbridge_server.client("iam").list_roles()["Roles"]] == []


ECS_TAGGED = """
resource "aws_ecs_cluster" "c" {
  name = "tagged"
  tags = %s
}
resource "aws_ecs_task_definition" "td" {
  family                = "tagged"
  container_definitions = jsonencode([{ name = "app", image = "busybox", essential = true, memory = 128 }])
  tags                  = %s
}
"""


def test_ecs_cluster_and_task_definition_tags_change_in_place(tmp_path: Path, cronbridge_server: Any) -> None:
    folder = Folder(write(tmp_path, {"main.tf": ECS_TAGGED % ('{ a = "1" }', '{ a = "1" }')}), cronbridge_server)
    folder.apply()
    ecs = cronbridge_server.client("ecs")
    cluster, definition = (
        ecs.describe_clusters(clusters=["tagged"])["clusters"][0]["clusterArn"],
        ecs.describe_task_definition(taskDefinition="tagged")["taskDefinition"]["taskDefinitionArn"],
    )
    write(tmp_path, {"main.tf": ECS_TAGGED % ('{ b = "2" }', '{ a = "1", b = "2" }')})
    assert [c.action.value for c in folder.plan().changes] == ["update", "update"]
    folder.apply()
    assert "0 added, 2 changed, 0 destroyed" in folder.output
    assert ecs.list_tags_for_resource(resourceArn=cluster)["tags"] == [{"key": "b", "value": "2"}]
    assert ecs.list_tags_for_resource(resourceArn=definition)["tags"] == [
        {"key": "a", "value": "1"}, {"key": "b", "value": "2"}
    ]
    assert ecs.describe_clusters(clusters=["tagged"])["clusters"][0]["clusterArn"] == cluster  # not replaced
    folder.destroy()
