"""cron(Min Hour Day-of-month Month Day-of-week Year): parsing, next-fire search in wall time."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Literal

from cronbridge.schedule import fields as f
from cronbridge.schedule.base import Schedule, ScheduleError, at_or_after
from cronbridge.schedule.days import (
    DayRule,
    DaysOfMonth,
    DaysOfWeek,
    LastDayOfMonth,
    LastWeekdayOfMonth,
    NearestWeekday,
    NthWeekdayOfMonth,
)
from cronbridge.schedule.zones import (
    Wall,
    first_wall_after,
    gap_end,
    instant_of,
    utc_instant,
    wall_of,
    zone,
)

_LONGEST = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}  # other months have 31 days
_BEFORE_FIRST_YEAR = -86400.0  # 1969-12-31, a day before any zone reaches 1970
_AFTER_LAST_YEAR = 7_258_204_800.0  # 2200-01-02 UTC, a day after any zone leaves 2199
_MAX_STEPS = 100_000  # far above any real gap or fold; guards against a logic error looping


@dataclass(frozen=True)
class CronFields:
    """The six fields as written (upper-cased), kept for descriptions."""

    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str
    year: str


def next_table(values: tuple[int, ...], size: int) -> tuple[int, ...]:
    """t[v] = the smallest value >= v, or -1; one extra slot so t[size] = -1."""
    table = [-1] * (size + 1)
    for v in range(size - 1, -1, -1):
        table[v] = v if v in values else table[v + 1]
    return tuple(table)


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """A parsed cron expression; fire times are local wall minutes in the caller's zone."""

    expression: str
    text: CronFields
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: DayRule
    months: tuple[int, ...]
    years: tuple[int, ...]
    kind: Literal["cron"] = "cron"
    _next_minute: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _next_hour: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_next_minute", next_table(self.minutes, 60))
        object.__setattr__(self, "_next_hour", next_table(self.hours, 24))

    def next_after(
        self, instant: float, tz: str = "UTC", start: float | None = None
    ) -> float | None:
        base = at_or_after(instant, start)
        where = zone(tz)
        if not base < _AFTER_LAST_YEAR:  # also NaN: nothing fires after 2199
            return None
        base = max(base, _BEFORE_FIRST_YEAR)
        if where is UTC:
            found = self.next_wall(wall_of((base // 60) * 60 + 60, UTC))
            return None if found is None else utc_instant(found)
        return self._next_in_zone(base, where)

    def _next_in_zone(self, base: float, where: tzinfo) -> float | None:
        """Search wall time; skip nonexistent minutes and those whose first occurrence is past."""
        wall: Wall = wall_of(base, where)
        for _ in range(_MAX_STEPS):
            found = self.next_wall(wall)
            if found is None:
                return None
            fire = instant_of(found, where)
            if fire is None:
                wall = gap_end(found, where)
                continue
            if fire > base:
                return fire
            # Its first occurrence is past (or it is `base`'s own minute): skip ahead in one step.
            wall = first_wall_after(base, found, where)
        raise AssertionError("cron search did not converge")

    def matches(self, wall: Wall) -> bool:
        """Whether a wall minute is one the expression names."""
        return self.next_wall(wall) == wall

    def next_wall(self, wall: Wall) -> Wall | None:
        """The first wall minute >= `wall` that matches (hour 24 / day 32 act as carries)."""
        y, mo, d, h, mi = wall
        years = self.years if self.months else ()
        for index in range(bisect_left(years, y), len(years)):
            year = years[index]
            if year != y:
                mo, d, h, mi = 1, 1, 0, 0
            found = self._in_year(year, mo, d, h, mi)
            if found is not None:
                return (year, found[0], found[1], found[2], found[3])
        return None

    def _in_year(self, year: int, mo: int, d: int, h: int, mi: int) -> tuple[int, ...] | None:
        months = self.months
        for index in range(bisect_left(months, mo), len(months)):
            month = months[index]
            if month != mo:
                d, h, mi = 1, 0, 0
            found = self._in_month(year, month, d, h, mi)
            if found is not None:
                return (month, *found)
        return None

    def _in_month(self, year: int, month: int, d: int, h: int, mi: int) -> tuple[int, ...] | None:
        day = self.days.first_from(year, month, d)
        while day is not None:
            if day != d:
                h, mi = 0, 0
            found = self._in_day(h, mi)
            if found is not None:
                return (day, *found)
            day = self.days.first_from(year, month, day + 1)
        return None

    def _in_day(self, h: int, mi: int) -> tuple[int, int] | None:
        hour = self._next_hour[min(h, 24)]
        if hour < 0:
            return None
        minute = self._next_minute[mi] if hour == h else self.minutes[0]
        if minute >= 0:
            return hour, minute
        hour = self._next_hour[hour + 1]
        return None if hour < 0 else (hour, self.minutes[0])

    def describe(self) -> str:
        from cronbridge.schedule.describe import describe_cron

        return describe_cron(self.text)


def parse_cron(expression: str, body: str) -> CronSchedule:
    """Parse the inside of `cron(...)`; raises ScheduleError."""
    parts = [part for part in body.upper().split(" ") if part]
    if len(parts) != 6:
        raise ScheduleError(f"cron needs 6 fields, got {len(parts)}")
    text = CronFields(*parts)
    days = day_rule(text.day_of_month, text.day_of_week)
    months = f.field_values(f.parse_field(text.month, f.MONTH), f.MONTH)
    return CronSchedule(
        expression=expression,
        text=text,
        minutes=f.field_values(f.parse_field(text.minute, f.MINUTE), f.MINUTE),
        hours=f.field_values(f.parse_field(text.hour, f.HOUR), f.HOUR),
        days=days,
        months=tuple(m for m in months if days.min_day <= _LONGEST.get(m, 31)),
        years=f.field_values(f.parse_field(text.year, f.YEAR), f.YEAR),
    )


def day_rule(dom: str, dow: str) -> DayRule:
    """Exactly one of the two day fields must be `?`; the other says which days fire."""
    if (dom == "?") == (dow == "?"):
        raise ScheduleError("exactly one of day-of-month and day-of-week must be '?'")
    return day_of_week_rule(dow) if dom == "?" else day_of_month_rule(dom)


def day_of_month_rule(text: str) -> DayRule:
    """`L`, `LW`, `nW`, or a plain field."""
    if text == "L":
        return LastDayOfMonth()
    if text == "LW":
        return LastDayOfMonth(weekday_only=True)
    if text.endswith("W"):
        return NearestWeekday(f.parse_value(text[:-1], f.DAY_OF_MONTH))
    return DaysOfMonth(f.field_values(f.parse_field(text, f.DAY_OF_MONTH), f.DAY_OF_MONTH))


def day_of_week_rule(text: str) -> DayRule:
    """`L` (Saturday), `nL`, `n#k` (alone in the field), or a plain field."""
    spec = f.DAY_OF_WEEK
    if text == "L":
        return DaysOfWeek(frozenset({7}))
    if "#" in text:
        weekday, _, nth = text.partition("#")
        if nth not in ("1", "2", "3", "4", "5"):
            raise f.bad(spec, text)
        return NthWeekdayOfMonth(f.parse_value(weekday, spec), int(nth))
    if text.endswith("L"):
        return LastWeekdayOfMonth(f.parse_value(text[:-1], spec))
    return DaysOfWeek(frozenset(f.field_values(f.parse_field(text, spec), spec)))
