"""rate(value unit): a fixed period counted from a start instant; a "day" is always 24 hours."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from cronbridge.schedule.base import Schedule, ScheduleError

_RATE = re.compile(r"rate\(([0-9]{1,9}) +(minute|minutes|hour|hours|day|days)\)", re.ASCII)
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RateSchedule(Schedule):
    """Fires at start + k * period for k >= 0 (no start: counts from `instant`)."""

    expression: str
    value: int
    unit: str  # minute, hour or day (singular)
    kind: Literal["rate"] = "rate"

    @property
    def period(self) -> float:
        """The period in seconds."""
        return float(self.value * _SECONDS[self.unit])

    def next_after(
        self, instant: float, tz: str = "UTC", start: float | None = None
    ) -> float | None:
        anchor = instant if start is None else start
        if instant < anchor:
            return anchor
        k = math.floor((instant - anchor) / self.period) + 1
        fire = anchor + k * self.period
        return fire if fire > instant else fire + self.period

    def describe(self) -> str:
        return f"every {self.unit}" if self.value == 1 else f"every {self.value} {self.unit}s"


def parse_rate(expression: str) -> RateSchedule:
    """Parse `rate(value unit)`: a positive value, a singular unit exactly when the value is 1."""
    match = _RATE.fullmatch(expression)
    if match is None:
        raise ScheduleError("rate needs a value and a unit: minute(s), hour(s) or day(s)")
    value, unit = int(match[1]), match[2]
    if value < 1:
        raise ScheduleError("a rate value must be positive")
    if (value == 1) != (not unit.endswith("s")):
        raise ScheduleError("the unit is singular exactly when the value is 1")
    return RateSchedule(expression, value, unit.rstrip("s"))
