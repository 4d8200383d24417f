"""Condition operators one at a time: values, missing keys, set qualifiers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.iam.conditions import condition_holds, context_values, parse_date
from cronbridge.iam.policy import parse_conditions


def holds(block: dict[str, Any], context: dict[str, Any], variables: Any = None) -> bool:
    (condition,) = parse_conditions(block)
    return condition_holds(condition, context, variables)


@pytest.mark.parametrize(("text", "instant"), [
    ("2026-01-01T00:00:00Z", 1767225600.0),
    ("2026-01-01T01:00:00+01:00", 1767225600.0),
    ("2026-01-01", 1767225600.0),
    ("1767225600", 1767225600.0),
    ("soon", None),
])
def test_a_date_is_iso_8601_or_epoch_seconds(text: str, instant: float | None) -> None:
    assert parse_date(text) == instant


def test_context_values_are_found_whatever_the_key_case() -> None:
    assert context_values({"aws:SourceIp": "1.2.3.4"}, "AWS:SOURCEIP") == ["1.2.3.4"]
    assert context_values({"aws:TagKeys": []}, "aws:TagKeys") is None


@pytest.mark.parametrize(("operator", "policy_value", "request_value", "expected"), [
    ("NumericEquals", "10", "10.0", True),
    ("NumericNotEquals", "10", "11", True),
    ("NumericLessThanEquals", "10", "10", True),
    ("NumericGreaterThan", "10", "10", False),
    ("DateEquals", "2026-01-01T00:00:00Z", "1767225600", True),
    ("DateNotEquals", "2026-01-01T00:00:00Z", "1767225600", False),
    ("DateGreaterThanEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", True),
    ("DateLessThanEquals", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z", False),
    ("StringNotEqualsIgnoreCase", "PROD", "prod", False),
    ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", True),
    ("ArnNotLike", "arn:aws:events:*:1:rule/*", "arn:aws:events:eu-west-1:1:rule/r", False),
    ("IpAddress", "10.0.0.0/8", "not-an-ip", False),
    ("IpAddress", "10.1.2.3", "10.1.2.3", True),
])
def test_an_operator_compares_as_aws_documents(operator: str, policy_value: str,
                                               request_value: str, expected: bool) -> None:
    assert holds({operator: {"k:k": policy_value}}, {"k:k": request_value}) is expected


def test_a_negated_operator_on_several_values_needs_none_to_match() -> None:
    block = {"StringNotEquals": {"aws:TagKeys": ["secret"]}}
    assert holds(block, {"aws:TagKeys": ["a", "b"]})
    assert not holds(block, {"aws:TagKeys": ["a", "secret"]})


def test_an_unresolvable_variable_in_a_condition_value_never_matches() -> None:
    block = {"StringEquals": {"s3:prefix": "home/${aws:username}"}}
    assert not holds(block, {"s3:prefix": "home/"}, variables={})
    assert holds(block, {"s3:prefix": "home/Bob"}, variables={"aws:username": "Bob"})


def test_a_wildcard_in_a_string_equals_value_is_a_plain_character() -> None:
    block = {"StringEquals": {"s3:prefix": "home/${aws:username}/*"}}
    assert holds(block, {"s3:prefix": "home/B/*"}, variables={"aws:username": "B"})
    assert not holds(block, {"s3:prefix": "home/B/x"}, variables={"aws:username": "B"})


VALUES = st.lists(st.sampled_from(["a", "b", "c"]), max_size=3)


@given(VALUES, VALUES)
def test_for_all_values_is_a_subset_test(allowed: list[str], sent: list[str]) -> None:
    if not allowed:
        return
    block = {"ForAllValues:StringEquals": {"aws:TagKeys": allowed}}
    assert holds(block, {"aws:TagKeys": sent}) is set(sent).issubset(allowed)


@given(VALUES, VALUES)
def test_for_any_value_is_an_intersection_test(allowed: list[str], sent: list[str]) -> None:
    if not allowed:
        return
    block = {"ForAnyValue:StringEquals": {"aws:TagKeys": allowed}}
    assert holds(block, {"aws:TagKeys": sent}) is bool(set(sent) & set(allowed))
