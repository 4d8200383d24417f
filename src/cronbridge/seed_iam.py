"""The seed's IAM, created through the IAM API as its Terraform does: the task execution role and the events role."""

from __future__ import annotations

import contextlib
import json
from typing import Any

EXECUTION_ROLE = "EcsTaskExecutionRole-sample"
EXECUTION_POLICY = "EcsTaskExecutionPolicy-sample"
EVENTS_ROLE = "EcsEventsRole-sample"
EVENTS_POLICY = "EcsRunTaskEventsPolicy"
SCHEDULER_ROLE = "EcsSchedulerRole-sample"
SCHEDULER_POLICY = "EcsRunTaskSchedulerPolicy"


def trust(service: str) -> dict[str, Any]:
    """The seed's assume-role policy for one service principal."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "", "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def execution_policy() -> dict[str, Any]:
    """policies/ecs-task-execution-policy.json: write logs, pull images."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Resource": "*",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:GetRepositoryPolicy",
                    "ecr:DescribeRepositories",
                    "ecr:ListImages",
                    "ecr:DescribeImages",
                    "ecr:BatchGetImage",
                    "ecr:GetLifecyclePolicy",
                    "ecr:GetLifecyclePolicyPreview",
                    "ecr:ListTagsForResource",
                    "ecr:DescribeImageScanFindings",
                ],
            }
        ],
    }


def events_policy(task_definition_arn: str) -> dict[str, Any]:
    """policies/events-policy.json: pass roles, and run that one task definition only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
            {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": task_definition_arn},
        ],
    }


def role_with_policy(iam: Any, role: str, trust_policy: dict[str, Any], policy: str, document: dict[str, Any]) -> str:
    """Create a role and a managed policy attached to it (reusing either when it exists); the role's ARN."""
    try:
        arn = str(iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust_policy))["Role"]["Arn"])
    except iam.exceptions.EntityAlreadyExistsException:
        arn = str(iam.get_role(RoleName=role)["Role"]["Arn"])
    account = arn.split(":")[4]
    policy_arn = f"arn:aws:iam::{account}:policy/{policy}"
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_policy(PolicyName=policy, PolicyDocument=json.dumps(document))
    iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    return arn


def create_execution_role(iam: Any) -> str:
    """EcsTaskExecutionRole-sample, trusted by ecs-tasks.amazonaws.com, with the seed's execution policy."""
    return role_with_policy(iam, EXECUTION_ROLE, trust("ecs-tasks.amazonaws.com"), EXECUTION_POLICY, execution_policy())


def create_events_role(iam: Any, task_definition_arn: str) -> str:
    """EcsEventsRole-sample, trusted by events.amazonaws.com, allowed to run `task_definition_arn` only."""
    return role_with_policy(
        iam, EVENTS_ROLE, trust("events.amazonaws.com"), EVENTS_POLICY, events_policy(task_definition_arn)
    )


def create_scheduler_role(iam: Any, task_definition_arn: str) -> str:
    """The events role for EventBridge Scheduler: trusted by scheduler.amazonaws.com, runs one task definition."""
    return role_with_policy(
        iam, SCHEDULER_ROLE, trust("scheduler.amazonaws.com"), SCHEDULER_POLICY, events_policy(task_definition_arn)
    )
