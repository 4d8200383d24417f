"""The listed language gives Terraform's values; anything outside it is named with file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cronbridge.terraform import plan
from cronbridge.terraform.diagnostics import Severity
from cronbridge.terraform.render import outputs_text
from fixtures.terraform import Folder, write

FUNCTIONS = """
variable "names" {
  type    = list(string)
  default = ["a", "b"]
}
locals {
  m = { x = 1, y = 2 }
}
output "all" {
  value = {
    file          = file("${path.module}/hello.txt")
    templatefile  = templatefile("${path.root}/t.tpl", { who = "you" })
    jsonencode    = jsonencode({ a = [1, true, null] })
    jsondecode    = jsondecode("{\\"k\\": [1, 2]}")
    format        = format("%s-%03d-%v", "x", 7, true)
    join          = join(",", var.names)
    split         = split(",", "a,b,c")
    lookup        = lookup(local.m, "z", 9)
    merge         = merge(local.m, { z = 3 })
    concat        = concat(var.names, ["c"])
    length        = length(var.names)
    replace       = replace("a-b-c", "-", "+")
    regex_replace = replace("abc123", "/[0-9]+/", "#")
    lower         = lower("ABC")
    upper         = upper("abc")
    tostring      = tostring(5)
    tonumber      = tonumber("5.5")
    try           = try(local.m.missing, "fallback")
    coalesce      = coalesce("", null, "first")
    template      = "n=${length(var.names)} ${upper(var.names[0])}"
    heredoc       = <<-EOT
      hello ${var.names[1]}
      EOT
    for_list      = [for n in var.names : upper(n) if n != "a"]
    for_map       = { for k, v in local.m : k => v * 10 }
    splat         = [{ id = 1 }, { id = 2 }][*].id
    cond          = length(var.names) > 1 ? "many" : "one"
  }
}
"""

EXPECTED: dict[str, Any] = {
    "file": "hi",
    "templatefile": "dear you",
    "jsonencode": '{"a":[1,true,null]}',
    "jsondecode": {"k": [1, 2]},
    "format": "x-007-true",
    "join": "a,b",
    "split": ["a", "b", "c"],
    "lookup": 9,
    "merge": {"x": 1, "y": 2, "z": 3},
    "concat": ["a", "b", "c"],
    "length": 2,
    "replace": "a+b+c",
    "regex_replace": "abc#",
    "lower": "abc",
    "upper": "ABC",
    "tostring": "5",
    "tonumber": 5.5,
    "try": "fallback",
    "coalesce": "first",
    "template": "n=2 A",
    "heredoc": "hello b\n",
    "for_list": ["B"],
    "for_map": {"x": 10, "y": 20},
    "splat": [1, 2],
    "cond": "many",
}


def test_every_listed_function_and_expression_gives_terraforms_value(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": FUNCTIONS, "hello.txt": "hi", "t.tpl": "dear ${who}"})
    result = plan(tmp_path)
    assert result.diagnostics == []
    assert result.outputs["all"] == EXPECTED


UNSUPPORTED = """terraform {
  required_version = ">= 1.0"
  backend "s3" {}
}
provider "aws" {
  region = "us-east-1"
  skip_credentials_validation = true
  default_tags {
    tags = { a = "b" }
  }
  alias = "second"
}
locals {
  b = abs(-1)
}
resource "aws_sqs_queue" "q" {
  name     = "q"
  provider = aws.second
  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = true
      error_message = "x"
    }
  }
  provisioner "local-exec" {
    command = "true"
  }
}
data "aws_region" "r" {
  count = 2
}
moved {
  from = a.b
  to   = c.d
}
output "o" {
  value = local.b
  foo   = 1
}
"""


def test_every_unsupported_construct_is_named_with_its_line(tmp_path: Path) -> None:
    found = {(d.severity, str(d.pos), d.summary) for d in plan(write(tmp_path, {"main.tf": UNSUPPORTED})).diagnostics}
    assert found == {
        (Severity.WARNING, "main.tf:3", 'The "backend" block is not used: state is kept in this folder'),
        (
            Severity.WARNING,
            "main.tf:7",
            'Provider argument "skip_credentials_validation" has no effect with cronbridge',
        ),
        (Severity.ERROR, "main.tf:8", 'Provider block "default_tags" is not supported'),
        (Severity.ERROR, "main.tf:11", 'Provider argument "alias" is not supported'),
        (Severity.ERROR, "main.tf:14", 'Call to unsupported function "abs"'),
        (Severity.ERROR, "main.tf:18", "Provider aliases are not supported"),
        (Severity.ERROR, "main.tf:20", 'lifecycle argument "create_before_destroy" is not supported'),
        (Severity.ERROR, "main.tf:21", '"precondition" blocks in lifecycle are not supported'),
        (Severity.ERROR, "main.tf:26", '"provisioner" blocks are not supported'),
        (Severity.ERROR, "main.tf:31", '"count" on data sources is not supported'),
        (Severity.ERROR, "main.tf:33", '"moved" blocks are not supported'),
        (Severity.ERROR, "main.tf:39", 'Unsupported argument "foo" in output'),
    }


@pytest.mark.parametrize(
    ("text", "where", "summary"),
    [
        ('locals {\n  a = "%{ if true }x%{ endif }"\n}\n', "main.tf:2", "Template directive %{...} is not supported"),
        ('locals {\n  a = "x"\n  b = [1, 2\n}\n', "main.tf:4", "Invalid HCL syntax"),
        ('resource "aws_sqs_queue" "q" {\n  name = 5 +\n}\n', "main.tf:3", "Invalid HCL syntax"),
    ],
)
def test_what_cannot_be_read_stops_with_file_and_line(tmp_path: Path, text: str, where: str, summary: str) -> None:
    result = plan(write(tmp_path, {"main.tf": text}))
    assert [(str(d.pos), d.summary.startswith(summary)) for d in result.diagnostics] == [(where, True)]


def test_a_directive_in_a_template_file_names_the_template_and_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"main.tf": 'output "o" {\n  value = templatefile("t.tpl", {})\n}\n', "t.tpl": "a\n%{ for x in [] }\n"},
    )
    diagnostics = plan(tmp_path).diagnostics
    assert [(str(d.pos), d.summary) for d in diagnostics] == [("t.tpl:2", "Template directive %{...} is not supported")]


def test_sensitive_outputs_are_not_printed() -> None:
    assert outputs_text({"secret": "s3cr3t", "plain": 1}, {"secret"}).splitlines()[-2:] == [
        "plain = 1",
        "secret = <sensitive>",
    ]


def test_lifecycle_ignore_changes_and_prevent_destroy_are_honoured(tmp_path: Path, cronbridge_server: Any) -> None:
    queue = 'resource "aws_sqs_queue" "q" {\n  name = "%s"\n  delay_seconds = %d\n  lifecycle {\n%s  }\n}\n'
    folder = Folder(
        write(tmp_path, {"main.tf": queue % ("kept", 1, "    ignore_changes = [delay_seconds]\n")}), cronbridge_server
    )
    folder.apply()
    write(tmp_path, {"main.tf": queue % ("kept", 9, "    ignore_changes = [delay_seconds]\n")})
    assert not folder.plan().has_changes

    write(tmp_path, {"main.tf": queue % ("kept", 1, "    prevent_destroy = true\n")})
    write(tmp_path, {"main.tf": queue % ("renamed", 1, "    prevent_destroy = true\n")})
    refused = folder.plan()
    assert [(str(d.pos), d.summary) for d in refused.diagnostics] == [
        (
            "main.tf:1",
            "Instance cannot be destroyed: aws_sqs_queue.q has lifecycle.prevent_destroy set, but the plan calls "
            "for this resource to be destroyed",
        )
    ]
    write(tmp_path, {"main.tf": queue % ("kept", 1, "    prevent_destroy = true\n")})
    with pytest.raises(Exception, match="prevent_destroy"):
        folder.destroy()
    assert cronbridge_server.client("sqs").get_queue_url(QueueName="kept")["QueueUrl"]


def test_blocks_that_variables_locals_and_outputs_do_not_take_are_errors(tmp_path: Path) -> None:
    text = """variable "v" {
  default   = "x"
  sensitive = true
  nested {}
}
locals {
  a = 1
  inner {}
}
output "o" {
  value = local.a
  precondition {
    condition     = true
    error_message = "x"
  }
}
"""
    found = [(d.severity, str(d.pos), d.summary) for d in plan(write(tmp_path, {"main.tf": text})).diagnostics]
    assert found == [
        (Severity.ERROR, "main.tf:4", 'Unsupported block "nested" in variable'),
        (Severity.WARNING, "main.tf:3", 'Variable "v" is sensitive, but plans and state show its value'),
        (Severity.ERROR, "main.tf:8", 'Unsupported block "inner" in locals'),
        (Severity.ERROR, "main.tf:12", 'Unsupported block "precondition" in output'),
    ]
