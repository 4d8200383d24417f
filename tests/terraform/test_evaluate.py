"""The expression language: operators, templates, for expressions, splats and functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.terraform.ast import Pos
from cronbridge.terraform.diagnostics import TerraformError
from cronbridge.terraform.evaluate import Evaluator
from cronbridge.terraform.syntax import parse_expression
from cronbridge.terraform.values import UNKNOWN

ROOTS = {
    "var": {"m": {"a": "x", "b": "y"}, "n": 3, "l": ["p", "q"]},
    "local": {"s": "hi"},
    "path": {"module": "."},
}


def evaluate(text: str, roots: dict[str, Any] | None = None, base: Path = Path(".")) -> Any:
    return Evaluator(roots or ROOTS, base).eval(parse_expression(text, Pos("x.tf", 7)))


TABLE = [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 / 4", 2.5),
    ('"n${var.n}" == "n3"', True),
    ("var.n > 2 && !false", True),
    ('var.n > 5 ? "big" : "small"', "small"),
    ('"a${local.s}b"', "ahib"),
    ('"$${literal}"', "${literal}"),
    ('[for k, v in var.m : upper(v) if k != "a"]', ["Y"]),
    ("{for k, v in var.m : v => k}", {"x": "a", "y": "b"}),
    ("[{a = 1}, {a = 2}][*].a", [1, 2]),
    ("var.l[1]", "q"),
    ('format("%s-%03d %v", "a", 7, true)', "a-007 true"),
    ('join("-", var.l)', "p-q"),
    ('split(",", "a,b")', ["a", "b"]),
    ('lookup(var.m, "c", "d")', "d"),
    ("merge(var.m, {c = 1})", {"a": "x", "b": "y", "c": 1}),
    ("concat(var.l, [1])", ["p", "q", 1]),
    ("length(var.m)", 2),
    ('replace("a.b", ".", "-")', "a-b"),
    ('replace("a1b22", "/[0-9]+/", "#")', "a#b#"),
    ('lower("AB")', "ab"),
    ("tostring(5)", "5"),
    ('tonumber("5")', 5),
    ('try(var.nope, "fallback")', "fallback"),
    ('coalesce("", "b")', "b"),
    ('jsonencode({a = [1, "x"]})', '{"a":[1,"x"]}'),
    ('jsondecode("{\\"a\\": 1}").a', 1),
    ("concat(var.l...)", None),
]


@pytest.mark.parametrize(("text", "expected"), [row for row in TABLE if row[1] is not None])
def test_expressions_evaluate_as_terraform_does(text: str, expected: Any) -> None:
    assert evaluate(text) == expected


def test_unknown_values_flow_through_templates_and_functions() -> None:
    roots = {**ROOTS, "aws_x": {"y": {"arn": UNKNOWN}}}
    assert evaluate('"arn=${aws_x.y.arn}"', roots) is UNKNOWN
    assert evaluate("jsonencode({a = aws_x.y.arn})", roots) is UNKNOWN
    assert evaluate("upper(aws_x.y.arn)", roots) is UNKNOWN


def test_templatefile_reads_the_file_relative_to_the_module(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text('{"r": "${arn}"}')
    assert evaluate('templatefile("${path.module}/t.json", {arn = "a:b"})', base=tmp_path) == '{"r": "a:b"}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("var.nope", 'undeclared input variable "var.nope"'),
        ("local.nope", 'undeclared local value "local.nope"'),
        ("timestamp()", 'unsupported function "timestamp"'),
        ('file("missing.json")', "no file exists"),
        ('1 + "a"', 'cannot convert "a" to number'),
    ],
)
def test_errors_name_the_construct_and_line(text: str, message: str) -> None:
    with pytest.raises(TerraformError) as caught:
        evaluate(text)
    diagnostic = caught.value.diagnostics[0]
    assert message.lower() in diagnostic.summary.lower()
    assert diagnostic.pos == Pos("x.tf", 7)
    assert diagnostic.hint


@given(st.lists(st.text(alphabet="abc xyz-", min_size=0, max_size=5), min_size=1, max_size=5))
def test_join_then_split_gives_back_the_parts(parts: list[str]) -> None:
    roots = {"var": {"p": parts}}
    assert evaluate('split(",", join(",", var.p))', roots) == parts


@given(st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_arithmetic_matches_python(a: int, b: int) -> None:
    assert evaluate(f"{a} + {b} * 2", {"var": {}}) == a + b * 2
