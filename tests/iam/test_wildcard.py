"""Wildcards and policy variables, matched without regular expressions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.iam.wildcard import compile_pattern, literal, resolve_variable


def pattern(text: str, **variables: str) -> object:
    found = compile_pattern(text, variables)
    assert found is not None
    return found


# (pattern, value, case-sensitive, matches)
GLOBS = [
    ("ecs:*", "ecs:RunTask", True, True),
    ("ecs:*Task", "ecs:RunTask", True, True),
    ("ecs:*Task", "ecs:RunTasks", True, False),
    ("ecs:R?n*", "ecs:RunTask", True, True),
    ("*", "", True, True),
    ("?", "", True, False),
    ("a*b*c", "axxbyyc", True, True),
    ("a*b*c", "axxbyy", True, False),
    ("a.b", "axb", True, False),
    ("a[b]", "a[b]", True, True),
    ("a+b", "aab", True, False),
    ("ECS:runtask", "ecs:RunTask", False, True),
    ("ECS:runtask", "ecs:RunTask", True, False),
    ("***", "abc", True, True),
]


@pytest.mark.parametrize(("text", "value", "case", "expected"), GLOBS)
def test_a_glob_matches_as_iam_wildcards_do(text: str, value: str, case: bool,
                                            expected: bool) -> None:
    assert pattern(text).matches(value, case_sensitive=case) is expected  # type: ignore[attr-defined]


ARNS = [
    ("arn:aws:ecs:*:1:cluster/a", "arn:aws:ecs:us-east-1:1:cluster/a", True),
    ("arn:aws:ecs:*:cluster/a", "arn:aws:ecs:us-east-1:1:cluster/a", False),
    ("arn:aws:logs:r:1:log-group:/ecs/*", "arn:aws:logs:r:1:log-group:/ecs/x:log-stream:y", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k:with:colons", True),
    ("arn:aws:iam::1:user/Bob", "arn:aws:iam::1:user/bob", False),
    ("*", "anything:at:all", True),
    ("arn:aws:ecs:us-east-1:1:*", "arn:aws:ecs:us-east-1:1:task/c/abc", True),
]


@pytest.mark.parametrize(("text", "value", "expected"), ARNS)
def test_an_arn_pattern_matches_segment_by_segment(text: str, value: str, expected: bool) -> None:
    assert pattern(text).matches_arn(value) is expected  # type: ignore[attr-defined]


def test_a_substituted_value_is_literal() -> None:
    compiled = compile_pattern("user/${aws:username}", {"aws:username": "a*"})
    assert compiled is not None
    assert compiled.matches("user/a*") and not compiled.matches("user/abc")


def test_the_escapes_give_literal_characters() -> None:
    compiled = compile_pattern("${*}${?}${$}", {})
    assert compiled is not None
    assert compiled.matches("*?$") and not compiled.matches("ab$")


@pytest.mark.parametrize(("body", "variables", "value"), [
    ("aws:username", {"aws:username": "Bob"}, "Bob"),
    ("AWS:UserName", {"aws:username": "Bob"}, "Bob"),
    ("aws:username, 'guest'", {}, "guest"),
    ("aws:username,'guest'", {"aws:username": "Bob"}, "Bob"),
    ("aws:username", {}, None),
    ("aws:TagKeys", {"aws:TagKeys": ["a"]}, None),
])
def test_a_variable_resolves_to_its_value_or_default(body: str, variables: dict[str, object],
                                                     value: str | None) -> None:
    assert resolve_variable(body, variables) == value  # type: ignore[arg-type]


def test_without_variables_the_text_stays_as_written() -> None:
    compiled = compile_pattern("user/${aws:username}", None)
    assert compiled is not None and compiled.matches("user/${aws:username}")


TEXT = st.text(alphabet="ab:/.*?", max_size=12)


@given(TEXT)
def test_any_text_matches_itself_as_a_literal(text: str) -> None:
    assert literal(text).matches(text)


@given(TEXT, TEXT, TEXT)
def test_a_star_matches_any_infix(head: str, middle: str, tail: str) -> None:
    compiled = compile_pattern("${*}".join(head.split("*")).replace("?", "${?}") + "*"
                               + "${*}".join(tail.split("*")).replace("?", "${?}"), {})
    assert compiled is not None and compiled.matches(head + middle + tail)


@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab", max_size=10))
def test_the_glob_agrees_with_a_reference_matcher(text: str, value: str) -> None:
    assert pattern(text).matches(value) is _reference(text, value)  # type: ignore[attr-defined]


def _reference(text: str, value: str) -> bool:
    """A slow, obviously right matcher: recursion over the first character."""
    if not text:
        return not value
    if text[0] == "*":
        return any(_reference(text[1:], value[i:]) for i in range(len(value) + 1))
    if value and text[0] in ("?", value[0]):
        return _reference(text[1:], value[1:])
    return False
