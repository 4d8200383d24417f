"""The AWS managed policies a fresh server knows, with their documents as AWS publishes them."""

from __future__ import annotations

import json
from typing import Any

ADMINISTRATOR_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

AWS_MANAGED: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/AdministratorAccess": ADMINISTRATOR_ACCESS,
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            }
        ],
    },
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceEventsRole": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ecs:RunTask"], "Resource": ["*"]},
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": ["*"],
                "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
            {
                "Effect": "Allow",
                "Action": "ecs:TagResource",
                "Resource": "*",
                "Condition": {"StringEquals": {"ecs:CreateAction": ["RunTask"]}},
            },
        ],
    },
    "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"}],
    },
    "arn:aws:iam::aws:policy/ReadOnlyAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecs:Describe*",
                    "ecs:List*",
                    "events:Describe*",
                    "events:List*",
                    "logs:Describe*",
                    "logs:Get*",
                    "logs:FilterLogEvents",
                    "iam:Get*",
                    "iam:List*",
                    "sqs:Get*",
                    "sqs:List*",
                    "scheduler:Get*",
                    "scheduler:List*",
                ],
                "Resource": "*",
            }
        ],
    },
}


def document_text(arn: str) -> str:
    return json.dumps(AWS_MANAGED[arn])
