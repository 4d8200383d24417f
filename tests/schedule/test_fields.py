"""Fields as bitsets: every item form names the values a plain expansion names; the next value is found exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cronbridge.schedule import fields as f

SPECS = [f.MINUTE, f.HOUR, f.DAY_OF_MONTH, f.MONTH, f.YEAR]


def expanded(first: int, last: int, step: int, spec: f.FieldSpec) -> set[int]:
    """Values first, first + step, ... counting around the field's end when last < first (the grammar's meaning)."""
    span = (last - first) % spec.size if spec.cyclic else last - first
    return {spec.low + (first - spec.low + k) % spec.size for k in range(0, span + 1, step)}


@st.composite
def ranges(draw: st.DrawFn) -> tuple[f.FieldSpec, int, int, int]:
    spec = draw(st.sampled_from(SPECS))
    first, last = draw(st.integers(spec.low, spec.high)), draw(st.integers(spec.low, spec.high))
    if not spec.cyclic and last < first:
        first, last = last, first
    step = draw(st.integers(1, spec.high if spec.cyclic else spec.size - 1))
    return spec, first, last, step


@given(ranges())
def test_a_stepped_range_names_the_values_its_expansion_names(case: tuple[f.FieldSpec, int, int, int]) -> None:
    spec, first, last, step = case
    mask = f.parse_field(f"{first}-{last}/{step}", spec)
    assert set(f.values_of(mask)) == expanded(first, last, step, spec)


@given(ranges())
def test_a_start_with_a_step_runs_to_the_field_end(case: tuple[f.FieldSpec, int, int, int]) -> None:
    spec, first, _, step = case
    assert set(f.values_of(f.parse_field(f"{first}/{step}", spec))) == set(range(first, spec.high + 1, step))


@given(st.sets(st.integers(0, 2199), max_size=30), st.integers(0, 2300))
def test_the_next_set_bit_is_the_smallest_value_at_or_after(values: set[int], start: int) -> None:
    mask = sum(1 << v for v in values)
    later = [v for v in values if v >= start]
    assert f.next_set_bit(mask, start) == (min(later) if later else -1)


def test_names_and_numbers_spell_the_same_values() -> None:
    assert f.parse_field("MON-FRI", f.DAY_OF_WEEK) == f.parse_field("2-6", f.DAY_OF_WEEK)
    assert f.parse_field("JAN,JUL", f.MONTH) == f.parse_field("1,7", f.MONTH) == (1 << 1) | (1 << 7)
    assert f.parse_field("05", f.MINUTE) == f.parse_field("5", f.MINUTE) == 1 << 5
    assert f.parse_field("*", f.YEAR) == f.span(1970, 2199)
