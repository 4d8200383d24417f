"""What every schedule expression is: the Schedule base class and the one validation error."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Literal

from cronbridge.errors import ValidationError

MESSAGE = "Parameter ScheduleExpression is not valid."

Kind = Literal["cron", "rate", "at"]


class ScheduleError(ValidationError):
    """A schedule expression AWS would reject; `detail` says what is wrong (not on the wire)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(MESSAGE)
        self.detail = detail


class Schedule(ABC):
    """A parsed schedule expression: when it fires, and how to say so in plain English."""

    kind: Kind
    expression: str

    @abstractmethod
    def next_after(
        self, instant: float, tz: str = "UTC", start: float | None = None
    ) -> float | None:
        """The first fire time strictly after `instant` (epoch seconds, UTC), or None."""

    @abstractmethod
    def describe(self) -> str:
        """The schedule in plain English, for people."""

    def next_n(
        self, instant: float, n: int, tz: str = "UTC", start: float | None = None
    ) -> list[float]:
        """The next `n` fire times after `instant` (fewer when the schedule runs out)."""
        found: list[float] = []
        current = instant
        while len(found) < n:
            fire = self.next_after(current, tz, start)
            if fire is None:
                break
            found.append(fire)
            current = fire
        return found


def at_or_after(instant: float, start: float | None) -> float:
    """The instant to search after so that results are > `instant` and >= `start`."""
    if start is None or start <= instant:
        return instant
    return math.nextafter(start, -math.inf)
