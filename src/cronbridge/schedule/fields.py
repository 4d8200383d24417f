"""The cron field grammar shared by all six fields: lists, ranges, steps and names."""

from __future__ import annotations

from dataclasses import dataclass

from cronbridge.schedule.base import ScheduleError

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class FieldSpec:
    """One field's name, bounds, names, and whether ranges may wrap around the end."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    steps: bool = True
    cyclic: bool = True

    @property
    def size(self) -> int:
        return self.high - self.low + 1


MINUTE = FieldSpec("minute", 0, 59)
HOUR = FieldSpec("hour", 0, 23)
DAY_OF_MONTH = FieldSpec("day-of-month", 1, 31)
MONTH = FieldSpec("month", 1, 12, MONTHS)
DAY_OF_WEEK = FieldSpec("day-of-week", 1, 7, WEEKDAYS, steps=False)
YEAR = FieldSpec("year", 1970, 2199, cyclic=False)


@dataclass(frozen=True)
class Item:
    """One comma-separated item: values first..last (wrapping when last < first) every `step`."""

    first: int
    last: int
    step: int = 1
    star: bool = False

    def values(self, spec: FieldSpec) -> list[int]:
        """The values this item names, in firing order."""
        span = (self.last - self.first) % spec.size if spec.cyclic else self.last - self.first
        offsets = range(0, span + 1, self.step)
        return [spec.low + (self.first - spec.low + k) % spec.size for k in offsets]


def bad(spec: FieldSpec, text: str) -> ScheduleError:
    """The error for a bad field."""
    return ScheduleError(f"bad {spec.name}: {text!r}")


def parse_value(text: str, spec: FieldSpec) -> int:
    """A single number or (month and day-of-week) a three-letter name, within the field's bounds."""
    if text in spec.names:
        return spec.names.index(text) + 1
    if not text or len(text) > 4 or not set(text) <= _DIGITS:
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


def parse_item(text: str, spec: FieldSpec) -> Item:
    """`*/s`, `a`, `a/s`, `a-b` or `a-b/s`."""
    base, slash, step_text = text.partition("/")
    step = parse_step(step_text, spec) if slash else 1
    if base == "*":
        if not slash:
            raise bad(spec, text)
        return Item(spec.low, spec.high, step, star=True)
    first_text, dash, last_text = base.partition("-")
    first = parse_value(first_text, spec)
    if not dash:
        return Item(first, spec.high if slash else first, step)
    last = parse_value(last_text, spec)
    if last < first and not spec.cyclic:
        raise bad(spec, text)
    return Item(first, last, step)


def parse_field(text: str, spec: FieldSpec) -> tuple[Item, ...]:
    """A whole field: `*` or a comma-separated list of items."""
    if text == "*":
        return (Item(spec.low, spec.high, 1, star=True),)
    return tuple(parse_item(part, spec) for part in text.split(","))


def field_values(items: tuple[Item, ...], spec: FieldSpec) -> tuple[int, ...]:
    """The sorted distinct values of a field."""
    return tuple(sorted({v for item in items for v in item.values(spec)}))
