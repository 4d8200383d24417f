"""ECS's cluster query language: expressions as the ECS guide writes them, who is a member, and bad input refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.ecs.placement import Both, Comparison, Either, Expression, ExpressionError, Not, parse, subjects

T2_SMALL = {"attribute:ecs.instance-type": "t2.small", "attribute:ecs.availability-zone": "us-east-1a",
            "ec2InstanceId": "i-1", "attribute:stack": "prod", "attribute:gpus": "4"}  # fmt: skip
M5_LARGE = {"attribute:ecs.instance-type": "m5.large", "attribute:ecs.availability-zone": "us-east-1b",
            "ec2InstanceId": "i-2"}  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "members"),
    [
        ("attribute:ecs.instance-type == t2.small", ["i-1"]),
        ("attribute:ecs.instance-type equals m5.large", ["i-2"]),
        ("attribute:ecs.instance-type != t2.small", ["i-2"]),
        ("attribute:ecs.instance-type =~ t2.*", ["i-1"]),
        ("attribute:ecs.instance-type matches t2", []),  # a pattern matches the whole value, as Java's matches()
        ("attribute:ecs.instance-type !~ t2.*", ["i-2"]),
        ("attribute:ecs.availability-zone in [us-east-1a, us-east-1c]", ["i-1"]),
        ("attribute:ecs.availability-zone not_in [us-east-1a, us-east-1c]", ["i-2"]),
        ("ec2InstanceId in ['i-1', 'i-2']", ["i-1", "i-2"]),
        ("attribute:stack exists", ["i-1"]),
        ("attribute:stack !exists", ["i-2"]),
        ("attribute:stack not_exists", ["i-2"]),
        ("attribute:stack != prod", ["i-2"]),  # an instance without the attribute is not `prod`
        ("attribute:gpus >= 2", ["i-1"]),
        ("attribute:gpus > 10", []),  # compared as numbers: "4" > "10" as text, not as numbers
        ("attribute:ecs.instance-type =~ t2.* or attribute:ecs.availability-zone == us-east-1b", ["i-1", "i-2"]),
        ("attribute:ecs.instance-type =~ t2.* && attribute:ecs.availability-zone == us-east-1b", []),
        ("not(attribute:ecs.instance-type =~ t2.*)", ["i-2"]),
        ("!(attribute:ecs.instance-type =~ t2.*) || ec2InstanceId == i-1", ["i-1", "i-2"]),
        ("(ec2InstanceId == i-1 or ec2InstanceId == i-2) and attribute:stack exists", ["i-1"]),
    ],
)
def test_who_is_a_member(expression: str, members: list[str]) -> None:
    parsed = parse(expression)
    assert [i["ec2InstanceId"] for i in (T2_SMALL, M5_LARGE) if parsed.holds(i)] == members


def test_and_binds_tighter_than_or() -> None:
    assert parse("ec2InstanceId == a or ec2InstanceId == b and ec2InstanceId == c").holds({"ec2InstanceId": "a"})


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "attribute:ecs.instance-type",
        "attribute:ecs.instance-type ~= t2",
        "color == blue",
        "attribute: == x",
        "attribute:x in [a, b",
        "attribute:x in a",
        "(attribute:x == a",
        "attribute:x == a)",
        "attribute:x =~ '('",
        "attribute:x == a b",
        "x" * 2001,
    ],
)
def test_bad_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ExpressionError):
        parse(expression)


def test_subjects_lists_what_an_expression_looks_at() -> None:
    assert subjects(parse("task:group == a or not(attribute:b exists)")) == {"task:group", "attribute:b"}


# property: any expression written out is read back as the same tree ---------------------------------------------------
_VALUES = st.sampled_from(["a", "b", "t2.small", "us-east-1a", "10", "2"])
_SUBJECTS = st.sampled_from(["attribute:x", "attribute:ecs.instance-type", "ec2InstanceId"])


def _comparisons() -> st.SearchStrategy[Comparison]:
    binary = st.builds(Comparison, _SUBJECTS, st.sampled_from(["==", "!=", ">", ">=", "<", "<="]),
                       st.tuples(_VALUES))  # fmt: skip
    listed = st.builds(Comparison, _SUBJECTS, st.sampled_from(["in", "!in"]),
                       st.lists(_VALUES, min_size=1, max_size=3).map(tuple))  # fmt: skip
    unary = st.builds(Comparison, _SUBJECTS, st.sampled_from(["exists", "!exists"]), st.just(()))
    return binary | listed | unary


_EXPRESSIONS = st.recursive(
    _comparisons(),
    lambda inner: st.builds(Not, inner) | st.builds(Both, inner, inner) | st.builds(Either, inner, inner),
    max_leaves=6,
)


def _text(e: Expression) -> str:
    if isinstance(e, Comparison):
        if e.operator in ("in", "!in"):
            return f"{e.subject} {e.operator} [{', '.join(e.argument)}]"
        return f"{e.subject} {e.operator} {' '.join(e.argument)}".rstrip()
    if isinstance(e, Not):
        return f"not({_text(e.inner)})"
    joiner = " and " if isinstance(e, Both) else " || "
    return f"({_text(e.left)}){joiner}({_text(e.right)})"


@given(_EXPRESSIONS)
def test_an_expression_written_out_reads_back_the_same(expression: Expression) -> None:
    assert parse(_text(expression)) == expression


@given(_EXPRESSIONS, st.dictionaries(_SUBJECTS, _VALUES))
def test_not_is_the_complement(expression: Expression, instance: dict[str, str]) -> None:
    assert parse(f"not({_text(expression)})").holds(instance) is not expression.holds(instance)
