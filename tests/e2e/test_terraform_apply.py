"""The seed, fixed, applied to a real server: fires, logs Hello,World!, destroys only its own."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from fixtures.ecs import wait_stopped
from fixtures.terraform import Folder, write

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed-fixed"
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
GROUP = "/ecs/fargate-task-definition"

# The seed's shape with its roles made elsewhere (role ARNs as variables): the same rule, target,
# task definition and log group.
BATCH = {
    "variables.tf": """
variable "ecs_cluster_arn" { type = string }
variable "subnets" { type = list(string) }
variable "execution_role_arn" { type = string }
variable "events_role_arn" { type = string }
""",
    "batch.tf": """
resource "aws_cloudwatch_log_group" "task" {
  name = "/ecs/fargate-task-definition"
}
resource "aws_ecs_task_definition" "task_def" {
  family                   = "ecs-scheduled-batch-task"
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  requires_compatibilities = ["FARGATE"]
  execution_role_arn       = var.execution_role_arn
  container_definitions = jsonencode([{
    name      = "hello"
    image     = "public.ecr.aws/docker/library/busybox:latest"
    essential = true
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.task.name
        "awslogs-region"        = "us-east-1"
        "awslogs-stream-prefix" = "ecs"
      }
    }
  }])
}
resource "aws_cloudwatch_event_rule" "scheduled_batch" {
  name                = "hello"
  schedule_expression = "cron(*/30 * * * ? *)"
}
resource "aws_cloudwatch_event_target" "scheduled_batch" {
  target_id = "hello"
  arn       = var.ecs_cluster_arn
  rule      = aws_cloudwatch_event_rule.scheduled_batch.name
  role_arn  = var.events_role_arn
  ecs_target {
    task_count          = 1
    task_definition_arn = aws_ecs_task_definition.task_def.arn
    launch_type         = "FARGATE"
    platform_version    = "1.4.0"
    network_configuration {
      subnets          = var.subnets
      assign_public_ip = true
    }
  }
  input = jsonencode({ containerOverrides = [{ name = "hello", command = ["echo", "Hello,World!"] }] })
}
output "task_definition_arn" { value = aws_ecs_task_definition.task_def.arn }
""",
}


def _invocation(server: Any, rule: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [
            i for i in server.get(f"/_cronbridge/invocations?rule={rule}")["invocations"] if i["outcome"] != "PENDING"
        ]
        if done:
            return dict(done[0])
        time.sleep(0.05)
    raise AssertionError(f"rule {rule} did not fire")


def _messages(server: Any, group: str, timeout: float = 15) -> list[str]:
    logs = server.client("logs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        if found:
            return found
        time.sleep(0.1)
    return []


def _inventory(server: Any) -> dict[str, list[str]]:
    """What exists on the server, by kind, as names a user would list."""
    ecs, iam = server.client("ecs"), server.client("iam")
    return {
        "clusters": sorted(a.rsplit("/", 1)[-1] for a in ecs.list_clusters()["clusterArns"]),
        "rules": sorted(r["Name"] for r in server.client("events").list_rules()["Rules"]),
        "groups": sorted(g["logGroupName"] for g in server.client("logs").describe_log_groups()["logGroups"]),
        "queues": sorted(u.rsplit("/", 1)[-1] for u in server.client("sqs").list_queues().get("QueueUrls", [])),
        "task_definitions": sorted(ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "policies": sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]),
        "inline": sorted(
            f"{r['RoleName']}/{n}"
            for r in iam.list_roles()["Roles"]
            for n in iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"]
        ),
    }


def _pre_existing(server: Any) -> None:
    server.client("ecs").create_cluster(clusterName="default")
    server.client("logs").create_log_group(logGroupName="/theirs")
    server.client("events").put_rule(Name="theirs", ScheduleExpression="rate(1 day)")
    server.client("sqs").create_queue(QueueName="theirs")
    server.client("iam").create_role(
        RoleName="theirs",
        AssumeRolePolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},'
            '"Action":"sts:AssumeRole"}]}'
        ),
    )


def _roles_made_elsewhere(server: Any) -> tuple[str, str]:
    """The two roles of the seed, created outside Terraform with what the chain needs."""
    iam = server.client("iam")

    def trust(service: str) -> str:
        statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    execution = iam.create_role(
        RoleName="EcsTaskExecutionRole-sample", AssumeRolePolicyDocument=trust("ecs-tasks.amazonaws.com")
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="EcsTaskExecutionRole-sample",
        PolicyName="logs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Resource": "*", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"]}
                ],
            }
        ),
    )
    events = iam.create_role(RoleName="EcsEventsRole-sample", AssumeRolePolicyDocument=trust("events.amazonaws.com"))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName="EcsEventsRole-sample",
        PolicyName="run",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"},
                    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": execution},
                ],
            }
        ),
    )
    return execution, events


def _fires_and_logs(server: Any, folder: Folder, task_definition_arn: str) -> None:
    server.advance_clock(30 * 60 - 5)  # 08:30:00, the rule's next */30 slot
    fired = _invocation(server, "hello")
    assert fired["outcome"] == "SUCCEEDED", fired
    assert fired["scheduledTime"] == "2027-01-15T08:30:00.000Z"
    task = wait_stopped(server.client("ecs"), "default", fired["taskArns"][0])
    assert task["containers"][0]["exitCode"] == 0
    assert task["taskDefinitionArn"] == task_definition_arn
    assert "Hello,World!" in _messages(server, GROUP)


def test_the_seeds_batch_applies_fires_logs_hello_world_and_destroys_only_its_own(
    tmp_path: Path, server_factory: Any
) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0 + 5)
    _pre_existing(server)
    execution, events = _roles_made_elsewhere(server)
    before = _inventory(server)
    folder = Folder(write(tmp_path, BATCH), server)
    cluster = "arn:aws:ecs:us-east-1:000000000000:cluster/default"

    applied = folder.apply(
        vars={
            "ecs_cluster_arn": cluster,
            "subnets": '["subnet-1"]',
            "execution_role_arn": execution,
            "events_role_arn": events,
        }
    )
    assert not applied.has_errors, folder.output
    assert "Apply complete! Resources: 4 added, 0 changed, 0 destroyed." in folder.output
    _fires_and_logs(server, folder, applied.outputs["task_definition_arn"])

    assert folder.destroy() == 4
    assert _inventory(server) == before


def test_the_fixed_seed_applies_fires_logs_hello_world_and_destroys_only_its_own(
    tmp_path: Path, server_factory: Any
) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0 + 5)
    _pre_existing(server)
    before = _inventory(server)
    folder = Folder(Path(shutil.copytree(EXAMPLE, tmp_path / "seed-fixed")), server)

    applied = folder.apply()
    assert not applied.has_errors, folder.output
    assert "Apply complete! Resources: 10 added, 0 changed, 0 destroyed." in folder.output
    assert not folder.plan().has_changes

    _fires_and_logs(server, folder, applied.outputs["task_definition_arn"])

    assert folder.destroy() == 10
    assert _inventory(server) == before
