"""Condition operators (String, Arn, Numeric, Date, Bool, IP, Null), IfExists and set qualifiers."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from cronbridge.iam.policy import Condition
from cronbridge.iam.wildcard import compile_pattern

Context = Mapping[str, str | list[str]]
Variables = Context | None
Compare = Callable[[str, str, Variables], bool]

_NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike",
                      "NumericNotEquals", "DateNotEquals", "NotIpAddress", "ArnNotEquals",
                      "ArnNotLike"})


def context_values(context: Context, key: str) -> list[str] | None:
    """The request's values for `key` (condition keys are case-insensitive); None when absent."""
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            values = [value] if isinstance(value, str) else list(value)
            return values or None
    return None


def condition_holds(condition: Condition, context: Context, variables: Variables) -> bool:
    """Whether one condition is true for the request, with AWS's missing-key behaviour."""
    found = context_values(context, condition.key)
    if condition.operator == "Null":
        return _null(condition.values, found is None)
    if found is None:
        return _when_missing(condition)
    if condition.qualifier == "ForAllValues":
        return all(_one_value(condition, value, variables) for value in found)
    if condition.qualifier == "ForAnyValue":
        return any(_one_value(condition, value, variables) for value in found)
    if condition.operator in _NEGATED:
        return all(_one_value(condition, value, variables) for value in found)
    return any(_one_value(condition, value, variables) for value in found)


def _when_missing(condition: Condition) -> bool:
    if condition.qualifier == "ForAllValues":
        return True
    if condition.qualifier == "ForAnyValue":
        return False
    return condition.if_exists or condition.operator in _NEGATED


def _null(values: tuple[str, ...], missing: bool) -> bool:
    return any((value.lower() == "true") == missing for value in values)


def _one_value(condition: Condition, value: str, variables: Variables) -> bool:
    """A single request value against the condition's policy values."""
    negated = condition.operator in _NEGATED
    base = _POSITIVE[_positive_name(condition.operator)]
    matched = any(base(value, expected, variables) for expected in condition.values)
    return not matched if negated else matched


def _positive_name(operator: str) -> str:
    if operator == "NotIpAddress":
        return "IpAddress"
    return operator.replace("Not", "", 1) if operator in _NEGATED else operator


def _string_equals(value: str, expected: str, variables: Variables) -> bool:
    pattern = _substituted(expected, variables)
    return pattern is not None and pattern == value


def _string_equals_ignore_case(value: str, expected: str, variables: Variables) -> bool:
    pattern = _substituted(expected, variables)
    return pattern is not None and pattern.lower() == value.lower()


def _string_like(value: str, expected: str, variables: Variables) -> bool:
    pattern = compile_pattern(expected, variables)
    return pattern is not None and pattern.matches(value)


def _arn_like(value: str, expected: str, variables: Variables) -> bool:
    pattern = compile_pattern(expected, variables)
    return pattern is not None and pattern.matches_arn(value)


def _substituted(expected: str, variables: Variables) -> str | None:
    """`expected` with its policy variables replaced; None when one cannot be resolved."""
    if variables is None or "${" not in expected:
        return expected
    pattern = compile_pattern(expected.replace("*", "${*}").replace("?", "${?}"), variables)
    if pattern is None:
        return None
    return "".join(t if isinstance(t, str) else "" for t in pattern.tokens)


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(value: str, expected: str, variables: Variables) -> bool:
        try:
            return test(float(value), float(expected))
        except ValueError:
            return False
    return compare


def parse_date(text: str) -> float | None:
    """An ISO 8601 date/time or epoch seconds, as epoch seconds; None when it is neither."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _date(test: Callable[[float, float], bool]) -> Compare:
    def compare(value: str, expected: str, variables: Variables) -> bool:
        left, right = parse_date(value), parse_date(expected)
        return left is not None and right is not None and test(left, right)
    return compare


def _bool(value: str, expected: str, variables: Variables) -> bool:
    return value.lower() == expected.lower()


def _binary(value: str, expected: str, variables: Variables) -> bool:
    return value == expected


def _ip_address(value: str, expected: str, variables: Variables) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


_POSITIVE: dict[str, Compare] = {
    "StringEquals": _string_equals,
    "StringEqualsIgnoreCase": _string_equals_ignore_case,
    "StringLike": _string_like,
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
    "DateEquals": _date(lambda a, b: a == b),
    "DateLessThan": _date(lambda a, b: a < b),
    "DateLessThanEquals": _date(lambda a, b: a <= b),
    "DateGreaterThan": _date(lambda a, b: a > b),
    "DateGreaterThanEquals": _date(lambda a, b: a >= b),
    "Bool": _bool,
    "BinaryEquals": _binary,
    "IpAddress": _ip_address,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}
