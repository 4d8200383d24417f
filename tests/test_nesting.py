"""Nesting limits on decoded values: the level-at-a-time walk agrees with a plain recursive reading."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cronbridge.nesting import survey, too_deep

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=40,
)


def _depth(value: Any) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    if children is None:
        return 0
    return 1 + max((_depth(child) for child in children), default=0)


def _floats(value: Any) -> bool:
    if isinstance(value, dict):
        return any(map(_floats, value.values()))
    if isinstance(value, list):
        return any(map(_floats, value))
    return isinstance(value, float)


@given(VALUES, st.integers(min_value=1, max_value=6))
def test_survey_agrees_with_recursion(value: Any, limit: int) -> None:
    deep, floats = survey(value, limit)
    assert deep == (_depth(value) > limit) == too_deep(value, limit)
    if not deep:
        assert floats == (_floats(value) and not isinstance(value, float))


def test_a_value_nested_far_past_the_limit() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    assert too_deep(value) and not too_deep([[[]]], 3) and too_deep([[[[]]]], 3)
