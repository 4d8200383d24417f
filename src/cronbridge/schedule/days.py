"""The day rules of a cron expression: which days of a given month fire (sets, L, W, nL, n#k)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Protocol

from cronbridge.schedule.fields import next_set_bit

# Weekdays here are AWS's: 1 = Sunday ... 7 = Saturday.
_LENGTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@lru_cache(maxsize=4096)
def month_shape(year: int, month: int) -> tuple[int, int]:
    """(AWS weekday of the 1st, number of days) of a month."""
    first = date(year, month, 1).toordinal() % 7 + 1  # ordinal 1 (0001-01-01) was a Monday
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return first, _LENGTH[month] + leap


def weekday_of(year: int, month: int, day: int) -> int:
    """The AWS weekday (1 = Sunday) of a date."""
    first, _ = month_shape(year, month)
    return (first - 1 + day - 1) % 7 + 1


class DayRule(Protocol):
    """Which days of a month fire."""

    @property
    def min_day(self) -> int:
        """No month shorter than this can fire."""
        ...

    def first_from(self, year: int, month: int, day: int) -> int | None:
        """The first firing day >= `day` in that month, or None."""
        ...


@dataclass(frozen=True)
class DaysOfMonth:
    """Plain days of the month (`1,15`, `*`, `1-7`, `*/2`), as a bitset (bit d for day d)."""

    days: int

    @property
    def min_day(self) -> int:
        return next_set_bit(self.days, 1)

    def first_from(self, year: int, month: int, day: int) -> int | None:
        found = next_set_bit(self.days, day)
        return found if 0 < found <= month_shape(year, month)[1] else None


@dataclass(frozen=True)
class LastDayOfMonth:
    """`L`: the last day; `LW`: the last weekday (Monday-Friday) of the month."""

    weekday_only: bool = False
    min_day: int = 1

    def first_from(self, year: int, month: int, day: int) -> int | None:
        first, length = month_shape(year, month)
        last = length
        if self.weekday_only:
            weekday = (first - 1 + length - 1) % 7 + 1
            last -= {1: 2, 7: 1}.get(weekday, 0)
        return last if last >= day else None


@dataclass(frozen=True)
class NearestWeekday:
    """`nW`: the weekday nearest day n, within the month; months without day n skip."""

    target: int

    @property
    def min_day(self) -> int:
        return self.target

    def first_from(self, year: int, month: int, day: int) -> int | None:
        _, length = month_shape(year, month)
        if self.target > length:
            return None
        found = nearest_weekday(self.target, weekday_of(year, month, self.target), length)
        return found if found >= day else None


def nearest_weekday(target: int, weekday: int, length: int) -> int:
    """The weekday nearest `target` within days 1..length (Quartz's W rule)."""
    if weekday == 7:  # Saturday: Friday, or Monday the 3rd when the 1st is a Saturday
        return target - 1 if target > 1 else target + 2
    if weekday == 1:  # Sunday: Monday, or Friday when Sunday is the last day
        return target + 1 if target < length else target - 2
    return target


@dataclass(frozen=True)
class DaysOfWeek:
    """Plain days of the week (`MON-FRI`, `1,7`, `*`, and `L` = Saturday), as a bitset (bit w for weekday w)."""

    weekdays: int
    min_day: int = 1

    def first_from(self, year: int, month: int, day: int) -> int | None:
        first, length = month_shape(year, month)
        weekday = (first - 1 + day - 1) % 7 + 1
        twice = self.weekdays | self.weekdays << 7  # weekday w + 7 stands for w in the following week
        found = day + next_set_bit(twice, weekday) - weekday
        return found if found <= length else None


@dataclass(frozen=True)
class LastWeekdayOfMonth:
    """`nL` in day-of-week: the last given weekday of the month (`6L` = last Friday)."""

    weekday: int
    min_day: int = 1

    def first_from(self, year: int, month: int, day: int) -> int | None:
        first, length = month_shape(year, month)
        last_weekday = (first - 1 + length - 1) % 7 + 1
        found = length - (last_weekday - self.weekday) % 7
        return found if found >= day else None


@dataclass(frozen=True)
class NthWeekdayOfMonth:
    """`n#k` in day-of-week: the k-th given weekday of the month (`3#2` = second Tuesday)."""

    weekday: int
    nth: int
    min_day: int = 1

    def first_from(self, year: int, month: int, day: int) -> int | None:
        first, length = month_shape(year, month)
        found = 1 + (self.weekday - first) % 7 + 7 * (self.nth - 1)
        return found if day <= found <= length else None
