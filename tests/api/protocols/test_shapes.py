"""Request validation compiled from botocore's models: a long list of flat structures (PutLogEvents' events) is
checked in whole-list passes, and a bad item anywhere in it is still named by its path, as item by item checks do."""

from __future__ import annotations

from typing import Any

import pytest

from cronbridge.api.protocols.shapes import operation, validate


def problems(events: list[Any]) -> list[str]:
    op = operation("logs", "PutLogEvents")
    assert op is not None
    return validate(op, {"logGroupName": "g", "logStreamName": "s", "logEvents": events}, "InvalidParameterException")


def good(n: int) -> list[dict[str, Any]]:
    return [{"timestamp": 1_700_000_000_000 + i, "message": f"line {i}"} for i in range(n)]


def test_ten_thousand_valid_events_have_no_problem() -> None:
    assert problems(good(10_000)) == []
    assert problems([{"timestamp": 1, "message": "x", "unknownMember": [1, 2]}]) == []  # unknown members are ignored


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"timestamp": 5, "message": ""},
         "Value '' at 'logEvents.7.member.message' failed to satisfy constraint: Member must have length greater than"
         " or equal to 1"),
        ({"message": "no time"},
         "Value null at 'logEvents.7.member.timestamp' failed to satisfy constraint: Member must not be null"),
        ({"timestamp": "5", "message": "x"},
         "Value ''5'' at 'logEvents.7.member.timestamp' failed to satisfy constraint: Member must be of type long"),
        ({"timestamp": True, "message": "x"},
         "Value 'True' at 'logEvents.7.member.timestamp' failed to satisfy constraint: Member must be of type long"),
        ("text", "Value at 'logEvents.7.member' failed to satisfy constraint: Member must be a structure"),
    ],
)
def test_a_bad_event_deep_in_a_long_batch_is_named_by_its_path(bad: Any, expected: str) -> None:
    events: list[Any] = good(3000)
    events[6] = bad
    assert problems(events) == [expected]


def logs_problems(operation_name: str, params: dict[str, Any]) -> list[str]:
    op = operation("logs", operation_name)
    assert op is not None
    return validate(op, params, "InvalidParameterException")


def test_cloudwatch_logs_names_are_checked_against_their_model_pattern_before_their_length() -> None:
    assert logs_problems("DeleteMetricFilter", {"logGroupName": "x!x", "filterName": "x:x"}) == [
        "Value 'x!x' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern:"
        r" [\.\-_/#A-Za-z0-9]+",
        "Value 'x:x' at 'filterName' failed to satisfy constraint: Member must satisfy regular expression pattern:"
        " [^:*]*",
    ]
    assert logs_problems("CreateLogGroup", {"logGroupName": ""}) == [
        r"Value '' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern:"
        r" [\.\-_/#A-Za-z0-9]+",
        "Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ]
    assert logs_problems("CreateLogGroup", {"logGroupName": "/aws/lambda/fn-1_x.y#z"}) == []


def test_a_long_value_is_quoted_whole_up_to_a_kilobyte() -> None:
    name = "a" * 513
    assert logs_problems("CreateLogGroup", {"logGroupName": name}) == [
        f"Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must have length less than or equal"
        " to 512"
    ]
    quoted = logs_problems("CreateLogGroup", {"logGroupName": "a" * 5000})[0]
    assert "... (5000 characters)' at 'logGroupName'" in quoted and len(quoted) < 1300

