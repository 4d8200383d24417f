"""AWS schedule expressions (cron, rate, at): parse, next fire times, describe. Pure."""

from __future__ import annotations

from functools import lru_cache

from cronbridge.schedule.at import AtSchedule, parse_at
from cronbridge.schedule.base import MESSAGE, Schedule, ScheduleError
from cronbridge.schedule.cron import CronSchedule, parse_cron
from cronbridge.schedule.rate import RateSchedule, parse_rate
from cronbridge.schedule.zones import ZoneError, zone

__all__ = [
    "MESSAGE",
    "AtSchedule",
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleError",
    "ZoneError",
    "check_zone",
    "clear_cache",
    "describe",
    "parse",
]

MAX_LENGTH = 256  # botocore: ScheduleExpression max 256


@lru_cache(maxsize=65536)
def parse(expression: str, allow_at: bool = False) -> Schedule:
    """Parse an expression: rules pass allow_at=False, EventBridge Scheduler allow_at=True."""
    if not isinstance(expression, str) or not 0 < len(expression) <= MAX_LENGTH:
        raise ScheduleError("an expression is 1 to 256 characters")
    if expression.startswith("cron(") and expression.endswith(")"):
        return parse_cron(expression, expression[5:-1])
    if expression.startswith("rate("):
        return parse_rate(expression)
    if expression.startswith("at(") and allow_at:
        return parse_at(expression)
    raise ScheduleError("an expression is cron(...), rate(...) or (Scheduler only) at(...)")


def describe(expression: str) -> str:
    """A plain-English description of any valid expression (cron, rate or at)."""
    return parse(expression, allow_at=True).describe()


def check_zone(name: str) -> None:
    """Raise ZoneError unless `name` is an IANA time zone."""
    zone(name)


def clear_cache() -> None:
    """Forget every parsed expression (benchmarks time parsing from text)."""
    parse.cache_clear()
