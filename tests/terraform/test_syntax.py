"""Reading .tf text: file and line survive, bad HCL names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cronbridge.terraform import plan
from cronbridge.terraform.ast import Call, Pos, Template
from cronbridge.terraform.diagnostics import TerraformError
from cronbridge.terraform.syntax import parse_body, parse_template
from fixtures.terraform import seed_folder

SEED = seed_folder()


def test_every_attribute_keeps_its_line() -> None:
    body = parse_body((SEED / "events.tf").read_text(), "events.tf")
    target = body.blocks[0]
    network = target.body.blocks[0].body.blocks[0]
    assert target.body.attributes["input"].pos == Pos("events.tf", 20)
    assert network.body.attributes["subnets"].pos == Pos("events.tf", 14)
    assert isinstance(target.body.attributes["input"].expr, Call)


def test_bad_hcl_is_a_parse_error_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "a"\n  oops = = 3\n}\n')
    result = plan(tmp_path)
    assert result.has_errors
    assert [str(d.pos) for d in result.diagnostics] == ["main.tf:3"]
    assert "Invalid HCL syntax" in result.diagnostics[0].summary


def test_heredoc_interpolations_keep_their_lines() -> None:
    body = parse_body("locals {\n  a = <<EOT\nline one\n${var.x}\nEOT\n}\n", "m.tf")
    expr = body.blocks[0].body.attributes["a"].expr
    assert isinstance(expr, Template)
    assert expr.parts[0] == "line one\n"
    assert expr.parts[1].pos.line == 4  # type: ignore[union-attr]


def test_template_directives_are_an_error_not_ignored() -> None:
    with pytest.raises(TerraformError) as caught:
        parse_template("a\n%{ if true }x%{ endif }", Pos("t.json", 1))
    assert str(caught.value.diagnostics[0].pos) == "t.json:2"
