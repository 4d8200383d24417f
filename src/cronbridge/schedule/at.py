"""at(yyyy-mm-ddThh:mm:ss): Scheduler's one-time expression, read in the schedule's zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cronbridge.schedule.base import Schedule, ScheduleError
from cronbridge.schedule.zones import zone

_AT = re.compile(
    r"at\(([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\)", re.ASCII
)


@dataclass(frozen=True)
class AtSchedule(Schedule):
    """Fires once, at a local wall time; a time that does not exist in the zone never fires."""

    expression: str
    when: datetime  # naive: local wall time
    kind: Literal["at"] = "at"

    def instant(self, tz: str = "UTC") -> float | None:
        """The instant of the wall time in `tz` (the first one when it happens twice)."""
        where = zone(tz)
        fire = self.when.replace(tzinfo=where).timestamp()
        back = datetime.fromtimestamp(fire, where).replace(tzinfo=None)
        return fire if back == self.when else None

    def next_after(
        self, instant: float, tz: str = "UTC", start: float | None = None
    ) -> float | None:
        fire = self.instant(tz)
        return fire if fire is not None and fire > instant else None

    def describe(self) -> str:
        return f"once, at {self.when:%Y-%m-%d %H:%M:%S}"


def parse_at(expression: str) -> AtSchedule:
    """Parse `at(yyyy-mm-ddThh:mm:ss)`; the date and time must exist on the calendar."""
    match = _AT.fullmatch(expression)
    if match is None:
        raise ScheduleError("at needs yyyy-mm-ddThh:mm:ss")
    try:
        y, mo, d, h, mi, sec = (int(part) for part in match.groups())
        when = datetime(y, mo, d, h, mi, sec)
    except ValueError as exc:
        raise ScheduleError(f"no such date or time: {exc}") from exc
    return AtSchedule(expression, when)
