"""cron(Min Hour Day-of-month Month Day-of-week Year): parsing, next-fire search in wall time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from typing import Literal, NamedTuple

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
from cronbridge.schedule.fields import next_set_bit
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
# _MONTHS_LONG_ENOUGH[d]: the months that have a day d in some year
_MONTHS_LONG_ENOUGH = tuple(
    sum(1 << m for m in range(1, 13) if d <= _LONGEST.get(m, 31)) for d in range(32)
)
_BEFORE_FIRST_YEAR = -86400.0  # 1969-12-31, a day before any zone reaches 1970
_AFTER_LAST_YEAR = 7_258_204_800.0  # 2200-01-02 UTC, a day after any zone leaves 2199
_MAX_STEPS = 100_000  # far above any real gap or fold; guards against a logic error looping
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def minute_wall(minutes: int) -> Wall:
    """The UTC wall minute `minutes` after the epoch, by integer arithmetic (no datetime)."""
    days, minute = divmod(minutes, 1440)
    day = date.fromordinal(days + _EPOCH_ORDINAL)
    return (day.year, day.month, day.day, minute // 60, minute % 60)


class CronFields(NamedTuple):
    """The six fields as written (upper-cased), kept for descriptions."""

    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str
    year: str


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """A parsed cron expression; fire times are local wall minutes in the caller's zone.

    Minutes, hours, months and years are bitsets (bit v set when value v fires, see fields.py)."""

    expression: str
    text: CronFields
    minutes: int
    hours: int
    days: DayRule
    months: int
    years: int
    kind: Literal["cron"] = "cron"
    # per zone, the last answer: (base, fire) means no fire in (base, fire), so every base' in [base, fire) -> fire
    _recent: dict[str, tuple[float, float | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def next_after(
        self, instant: float, tz: str = "UTC", start: float | None = None
    ) -> float | None:
        base = at_or_after(instant, start)
        recent = self._recent.get(tz)
        if recent is not None and recent[0] <= base and (recent[1] is None or base < recent[1]):
            return recent[1]  # many rules share an expression and are planned from the same instant
        fire = self._search(base, tz)
        self._recent[tz] = (base, fire)
        return fire

    def _search(self, base: float, tz: str) -> float | None:
        """The first fire strictly after `base`, searched in wall time."""
        where = zone(tz)
        if not base < _AFTER_LAST_YEAR:  # also NaN: nothing fires after 2199
            return None
        base = max(base, _BEFORE_FIRST_YEAR)
        if where is UTC:
            found = self.next_wall(minute_wall(int(base // 60) + 1))
            return None if found is None else utc_instant(found)
        return self._next_in_zone(base, where)

    def _next_in_zone(self, base: float, where: tzinfo) -> float | None:
        """Search wall time; skip nonexistent minutes and those whose first occurrence is past."""
        y, mo, d, h, mi = wall_of(base, where)
        wall: Wall = (y, mo, d, h, mi + 1)  # `base`'s own minute began at or before it; minute 60 carries
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
            # Its first occurrence is past (`base` is in a repeated hour): skip ahead in one step.
            wall = first_wall_after(base, found, where)
        raise AssertionError("cron search did not converge")

    def matches(self, wall: Wall) -> bool:
        """Whether a wall minute is one the expression names."""
        return self.next_wall(wall) == wall

    def next_wall(self, wall: Wall) -> Wall | None:
        """The first wall minute >= `wall` that matches (hour 24 / day 32 act as carries)."""
        y, mo, d, h, mi = wall
        year = next_set_bit(self.years, y) if self.months else -1
        while year >= 0:
            if year != y:
                mo, d, h, mi = 1, 1, 0, 0
            found = self._in_year(year, mo, d, h, mi)
            if found is not None:
                return (year, found[0], found[1], found[2], found[3])
            year = next_set_bit(self.years, year + 1)
        return None

    def _in_year(self, year: int, mo: int, d: int, h: int, mi: int) -> tuple[int, int, int, int] | None:
        month = next_set_bit(self.months, mo)
        while month >= 0:
            if month != mo:
                d, h, mi = 1, 0, 0
            found = self._in_month(year, month, d, h, mi)
            if found is not None:
                return (month, found[0], found[1], found[2])
            month = next_set_bit(self.months, month + 1)
        return None

    def _in_month(self, year: int, month: int, d: int, h: int, mi: int) -> tuple[int, int, int] | None:
        day = self.days.first_from(year, month, d)
        while day is not None:
            if day != d:
                h, mi = 0, 0
            found = self._in_day(h, mi)
            if found is not None:
                return (day, found[0], found[1])
            day = self.days.first_from(year, month, day + 1)
        return None

    def _in_day(self, h: int, mi: int) -> tuple[int, int] | None:
        hour = next_set_bit(self.hours, h)
        if hour == h:
            minute = next_set_bit(self.minutes, mi)
            if minute >= 0:
                return hour, minute
            hour = next_set_bit(self.hours, hour + 1)
        if hour < 0:
            return None
        return hour, (self.minutes & -self.minutes).bit_length() - 1

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
    months = f.parse_field(text.month, f.MONTH) & _MONTHS_LONG_ENOUGH[days.min_day]
    return CronSchedule(
        expression,
        text,
        f.parse_field(text.minute, f.MINUTE),
        f.parse_field(text.hour, f.HOUR),
        days,
        months,
        f.parse_field(text.year, f.YEAR),
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
    return DaysOfMonth(f.parse_field(text, f.DAY_OF_MONTH))


def day_of_week_rule(text: str) -> DayRule:
    """`L` (Saturday), `nL`, `n#k` (alone in the field), or a plain field."""
    spec = f.DAY_OF_WEEK
    if text == "L":
        return DaysOfWeek(1 << 7)
    if "#" in text:
        weekday, _, nth = text.partition("#")
        if nth not in ("1", "2", "3", "4", "5"):
            raise f.bad(spec, text)
        return NthWeekdayOfMonth(f.parse_value(weekday, spec), int(nth))
    if text.endswith("L"):
        return LastWeekdayOfMonth(f.parse_value(text[:-1], spec))
    return DaysOfWeek(f.parse_field(text, spec))
