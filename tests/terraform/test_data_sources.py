"""Data sources: aws_iam_policy_document (pure), aws_region (the provider's), aws_caller_identity (STS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cronbridge.terraform import plan
from fixtures.terraform import Folder, write

DOCUMENT = """
provider "aws" {
  region = "eu-west-1"
}
data "aws_region" "current" {}
data "aws_iam_policy_document" "send" {
  statement {
    sid       = "Send"
    actions   = ["sqs:SendMessage"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:aws:events:${data.aws_region.current.name}:000000000000:rule/*"]
    }
  }
}
resource "aws_sqs_queue" "q" {
  name   = "in-${data.aws_region.current.region}"
  policy = data.aws_iam_policy_document.send.json
}
"""


def test_a_policy_document_and_the_region_flow_into_a_queue_on_the_server(
    tmp_path: Path, cronbridge_server: Any
) -> None:
    folder = Folder(write(tmp_path, {"main.tf": DOCUMENT}), cronbridge_server)
    assert not folder.apply().has_errors, folder.output
    sqs = cronbridge_server.client("sqs", region="eu-west-1")
    url = sqs.get_queue_url(QueueName="in-eu-west-1")["QueueUrl"]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Send",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": "*",
                "Principal": {"Service": "events.amazonaws.com"},
                "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:events:eu-west-1:000000000000:rule/*"}},
            }
        ],
    }
    assert not folder.plan().has_changes  # the document's text is stable from run to run
    folder.destroy()
    assert sqs.list_queues().get("QueueUrls", []) == []


def test_caller_identity_is_unknown_offline_and_the_plan_says_so(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.tf": 'data "aws_caller_identity" "me" {}\n'
            'resource "aws_sqs_queue" "q" {\n  name = "q-${data.aws_caller_identity.me.account_id}"\n}\n'
        },
    )
    result = plan(tmp_path)
    assert result.diagnostics == []
    assert "+ name" in result.render() and "(known after apply)" in result.render()


def test_caller_identity_reads_the_callers_account_from_sts(tmp_path: Path, cronbridge_server: Any) -> None:
    write(
        tmp_path,
        {
            "main.tf": 'data "aws_caller_identity" "me" {}\n'
            'resource "aws_sqs_queue" "q" {\n  name = "q-${data.aws_caller_identity.me.account_id}"\n}\n'
            'output "who" {\n  value = data.aws_caller_identity.me.arn\n}\n'
        },
    )
    folder = Folder(tmp_path, cronbridge_server)
    applied = folder.apply()
    assert not applied.has_errors, folder.output
    identity = cronbridge_server.client("sts").get_caller_identity()
    assert applied.outputs["who"] == identity["Arn"]
    assert cronbridge_server.client("sqs").get_queue_url(QueueName=f"q-{identity['Account']}")["QueueUrl"]
    folder.destroy()
