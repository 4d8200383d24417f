"""Patterns EventBridge refuses: the reason and the location it reports, word for word."""

from __future__ import annotations

import pytest

from cronbridge.events.pattern import InvalidEventPattern, compile_pattern

PREFIX = "Event pattern is not valid. Reason: "

# (pattern, reason, column of Jackson's location or None when EventBridge gives none)
REFUSALS = [
    ('"not an object"', "Filter is not an object", 2),
    ("{}", "Empty objects are not allowed", 3),
    ('{"int": 42}', '"int" must be an object or an array', 11),
    ('{"string": "my-value"}', '"string" must be an object or an array', 13),
    ('{"resources": []}', "Empty arrays are not allowed", 17),
    ('{"a": [["nested"]]}', "Match value must be String, number, true, false, or null", 9),
    ('{"a": [{}]}', "Match expression name not found", 10),
    ('{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}', "Unrecognized match type NUMERIC", 36),
    ('{"my_key": [{"EXISTS": true}]}', "Unrecognized match type EXISTS", 28),
    ('{"a": [{"exists": "yes"}]}', "exists match pattern must be either true or false.", 20),
    ('{"a": [{"prefix": "x", "suffix": "y"}]}', "Only one key allowed in match expression", 35),
    ('{"time": [{"prefix": ["2022-07-13"]}]}', "prefix match pattern must be a string", 23),
    ('{"time": [{"prefix": 123}]}', "prefix match pattern must be a string", 25),
    ('{"FileName": [{"suffix": 123}]}', "suffix match pattern must be a string", 29),
    ('{"a": [{"prefix": {"ignore-case": "x"}}]}', "Unsupported prefix pattern: ignore-case", 36),
    (
        '{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}',
        "equals-ignore-case match pattern must be a string",
        42,
    ),
    ('{"EventBusArn": [{"wildcard": 123}]}', "wildcard match pattern must be a string", 34),
    ('{"a": [{"wildcard": "x**"}]}', "Consecutive wildcard characters at pos 2", 26),
    ('{"a": [{"wildcard": "x\\\\n"}]}', "Invalid escape character at pos 2", 27),
    ('{"detail": {"c-count": [{"numeric": 10}]}}', "Value of numeric must be an array.", 39),
    ('{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}', "Bad numeric range operator: >", 49),
    ('{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}', "Value of < must be numeric", 50),
    ('{"a": [{"numeric": ["!=", 1]}]}', "Unrecognized numeric range operator: !=", 28),
    ('{"a": [{"numeric": [">", 5, "<", 1]}]}', "Bottom must be less than top", 36),
    ('{"a": [{"numeric": ["<", 1, ">", 0]}]}', "Too many elements in numeric expression", 30),
    ('{"a": [{"numeric": ["<", 6e9]}]}', "Value must be between -5.0E9 and 5.0E9, inclusive", 29),
    (
        '{"detail": {"state": [{"anything-but": null}]}}',
        "Value of anything-but must be an array or single string/number value.",
        44,
    ),
    ('{"a": [{"anything-but": {"exists": true}}]}', "Unsupported anything-but pattern: exists", 40),
    (
        '{"a": [{"anything-but": ["x", 1]}]}',
        "Inside anything but list, either all values are number or string, mixed type is not supported",
        33,
    ),
    ('{"detail": {"FileName": [{"anything-but": {"prefix": ""}}]}}', "Null prefix/suffix not allowed", 56),
    (
        '{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}',
        "prefix/suffix match pattern must be a string",
        57,
    ),
    (
        '{"a": [{"anything-but": {"equals-ignore-case": 123}}]}',
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
        51,
    ),
    ('{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}', "prefix match pattern must be a string", 43),
    ('{"a": [{"cidr": "10.0.0.0"}]}', "Malformed CIDR, one '/' required", None),
    ('{"a": [{"cidr": "10.0.0.0/x"}]}', "Malformed CIDR, mask bits must be an integer", None),
    ('{"a": [{"cidr": "10.0.0.0/32"}]}', "IPv4 mask bits must be < 32", None),
    ('{"a": [{"cidr": "xx.11.xx/24"}]}', "Nonstandard IP address: xx.11.xx", None),
    ('{"a": [{"cidr": "999.1.1.1/8"}]}', "Invalid IP address: 999.1.1.1", None),
    ('{"$or": [{"a": ["x"]}]}', "There must have at least 2 Objects in $or relationship.", 23),
    ('{"$or": {"a": ["x"]}}', "It must be an Array followed with $or.", 10),
    ('{"$or": [{"a": ["x"]}, "b"]}', "Only JSON object is allowed in array of $or relationship.", 25),
    (
        '{"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}',
        "prefix is Ruler reserved fieldName which cannot be used inside $or.",
        22,
    ),
    (
        '{"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}',
        "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a "
        "wildcard character",
        None,
    ),
    ("{bad", "Unexpected character ('b' (code 98)): was expecting double-quote to start field name", 3),
]


@pytest.mark.parametrize(("pattern", "reason", "column"), REFUSALS)
def test_a_refused_pattern_gets_eventbridges_reason_and_location(pattern: str, reason: str, column: int | None) -> None:
    with pytest.raises(InvalidEventPattern) as raised:
        compile_pattern(pattern)
    assert raised.value.code == "InvalidEventPatternException"
    assert raised.value.status == 400
    location = "" if column is None else f'\n at [Source: (String)"{pattern}"; line: 1, column: {column}]'
    assert raised.value.message == PREFIX + reason + location


def test_a_refusal_inside_an_anything_but_list_repeats_its_location_as_eventbridge_does() -> None:
    pattern = '{"detail": {"state": [{"anything-but": ["stopped", null]}]}}'
    with pytest.raises(InvalidEventPattern) as raised:
        compile_pattern(pattern)
    where = f'\n at [Source: (String)"{pattern}"; line: 1, column: 56]'
    assert raised.value.message == PREFIX + "Inside anything but list, start|null|boolean is not supported." + where * 2


def test_the_location_counts_lines_and_columns_of_a_multi_line_pattern() -> None:
    pattern = '{\n  "source": "aws.ecs"\n}'
    with pytest.raises(InvalidEventPattern) as raised:
        compile_pattern(pattern)
    assert raised.value.message.endswith("line: 2, column: 14]")


def test_a_long_pattern_is_quoted_only_in_part() -> None:
    pattern = '{"a": [' + ", ".join(f'"{i}"' for i in range(200)) + '], "b": 1}'
    with pytest.raises(InvalidEventPattern) as raised:
        compile_pattern(pattern)
    assert "[truncated" in raised.value.message


ACCEPTED = [
    '{"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"], "detail": {"lastStatus": ["STOPPED"]}}',
    '{"a": [{"prefix": {"equals-ignore-case": "EventB"}}]}',
    '{"a": [{"suffix": {"equals-ignore-case": ".PNG"}}]}',
    '{"a": [{"anything-but": {"prefix": ["init", "error"]}}]}',
    '{"a": [{"anything-but": {"wildcard": ["*/bin/*.jar", "*/bin/*.class"]}}]}',
    '{"a": [{"numeric": ["=", 3.018e2]}]}',
    '{"a": [{"cidr": "2001:db8::/32"}]}',
    '{"a": [{"exactly": "x"}]}',
    '{"FileName": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]}',
    '{"a": [{"wildcard": "a\\\\*b\\\\\\\\c"}]}',
    '{"$or": [{"a": ["x"]}, {"b": [{"numeric": [">", 0]}]}], "c": [null, true, false, 1, ""]}',
    '{"a": ["x"]}   trailing text after the pattern is ignored, as Jackson reads it',
]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_eventbridges_documented_forms_are_accepted(pattern: str) -> None:
    assert compile_pattern(pattern).rules
