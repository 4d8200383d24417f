"""The cron field grammar shared by all six fields: lists, ranges, steps and names, read into bitsets.

A field's values are one int: bit v is set when value v fires (years too: bit 2024 for 2024). The next value at or
after v is then two integer operations (`next_set_bit`), so no search steps through minutes or days."""

from __future__ import annotations

from dataclasses import dataclass, field

from cronbridge.schedule.base import ScheduleError

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DIGITS = frozenset("0123456789")
_WIDEST = 240  # no field spans more values (years: 1970-2199)
# _EVERY[s]: bits 0, s, 2s, ... below _WIDEST; shifted and masked, it is any stepped range
_EVERY = (0, *(sum(1 << k for k in range(0, _WIDEST, step)) for step in range(1, _WIDEST)))


def span(first: int, last: int, step: int = 1) -> int:
    """The bitset of first, first + step, ... up to last (first <= last)."""
    return (_EVERY[step] << first) & ((2 << last) - (1 << first))


def next_set_bit(mask: int, value: int) -> int:
    """The smallest value >= `value` whose bit is set in `mask`, or -1."""
    above = mask >> value
    return value + (above & -above).bit_length() - 1 if above else -1


def values_of(mask: int) -> tuple[int, ...]:
    """The values of a bitset, ascending."""
    found, value = [], next_set_bit(mask, 0)
    while value >= 0:
        found.append(value)
        value = next_set_bit(mask, value + 1)
    return tuple(found)


@dataclass(frozen=True)
class FieldSpec:
    """One field's name, bounds, names, and whether ranges may wrap around the end."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    steps: bool = True
    cyclic: bool = True
    every: int = field(init=False, repr=False, compare=False)  # the bitset of `*`
    spelled: dict[str, int] = field(init=False, repr=False, compare=False)  # "5", "MON" -> value

    def __post_init__(self) -> None:
        object.__setattr__(self, "every", span(self.low, self.high))
        spelled = {str(v): v for v in range(self.low, self.high + 1)}
        spelled.update({name: index + 1 for index, name in enumerate(self.names)})
        object.__setattr__(self, "spelled", spelled)

    @property
    def size(self) -> int:
        return self.high - self.low + 1


MINUTE = FieldSpec("minute", 0, 59)
HOUR = FieldSpec("hour", 0, 23)
DAY_OF_MONTH = FieldSpec("day-of-month", 1, 31)
MONTH = FieldSpec("month", 1, 12, MONTHS)
DAY_OF_WEEK = FieldSpec("day-of-week", 1, 7, WEEKDAYS, steps=False)
YEAR = FieldSpec("year", 1970, 2199, cyclic=False)


def bad(spec: FieldSpec, text: str) -> ScheduleError:
    """The error for a bad field: what was written and what the field takes."""
    names = f" or {spec.names[0]}-{spec.names[-1]}" if spec.names else ""
    steps = "" if spec.steps else ", no /steps"
    return ScheduleError(f"bad {spec.name}: {text!r} ({spec.name} takes {spec.low}-{spec.high}{names}{steps})")


def parse_value(text: str, spec: FieldSpec) -> int:
    """A single number or (month and day-of-week) a three-letter name, within the field's bounds."""
    value = spec.spelled.get(text)
    if value is not None:
        return value
    if not text or len(text) > 4 or not set(text) <= _DIGITS:  # leading zeros: "05"
        raise bad(spec, text)
    value = int(text)
    if not spec.low <= value <= spec.high:
        raise bad(spec, text)
    return value


def parse_step(text: str, spec: FieldSpec) -> int:
    """A step: a positive number no larger than the field's highest value (so */60 is rejected)."""
    if not spec.steps or not text or len(text) > 3 or not set(text) <= _DIGITS:
        raise bad(spec, text)
    step = int(text)
    if not 1 <= step <= (spec.high if spec.cyclic else spec.size - 1):
        raise bad(spec, text)
    return step


def wrapped(first: int, last: int, step: int, spec: FieldSpec) -> int:
    """A range that wraps past the field's end (`22-2`, `FRI-MON/2`): the step carries over the end."""
    head_last = first + step * ((spec.high - first) // step)
    resume = head_last + step - spec.size
    tail = span(resume, last, step) if resume <= last else 0
    return span(first, spec.high, step) | tail


def parse_item(text: str, spec: FieldSpec) -> int:
    """`*/s`, `a`, `a/s`, `a-b` or `a-b/s`, as a bitset."""
    base, slash, step_text = text.partition("/")
    step = parse_step(step_text, spec) if slash else 1
    if base == "*":
        if not slash:
            raise bad(spec, text)
        return span(spec.low, spec.high, step)
    first_text, dash, last_text = base.partition("-")
    first = parse_value(first_text, spec)
    if not dash:
        return span(first, spec.high, step) if slash else 1 << first
    last = parse_value(last_text, spec)
    if first <= last:
        return span(first, last, step)
    if not spec.cyclic:
        raise bad(spec, text)
    return wrapped(first, last, step, spec)


def parse_field(text: str, spec: FieldSpec) -> int:
    """A whole field: `*` or a comma-separated list of items, as a bitset."""
    if text == "*":
        return spec.every
    single = spec.spelled.get(text)
    if single is not None:
        return 1 << single
    mask = 0
    for part in text.split(","):
        mask |= parse_item(part, spec)
    return mask
