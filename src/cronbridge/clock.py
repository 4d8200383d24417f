"""Time, injected: the Clock protocol, the system clock, and a fake clock that tests move by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Where the time comes from. Instants are float seconds since the Unix epoch (UTC)."""

    def now(self) -> float:
        """The current instant."""
        ...

    def wait_until(self, deadline: float, wake: threading.Event) -> bool:
        """Block until `deadline` or until `wake` is set; True when woken early. Never raises."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> float:
        return time.time()

    def wait_until(self, deadline: float, wake: threading.Event) -> bool:
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                return wake.is_set()
            if wake.wait(min(remaining, 1.0)):
                return True


class FakeClock:
    """A clock that moves only when told to (`advance`, `set`); waiters wake when it passes their deadline."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._cond = threading.Condition()

    def now(self) -> float:
        with self._cond:
            return self._now

    def set(self, instant: float) -> None:
        with self._cond:
            self._now = instant
            self._cond.notify_all()

    def advance(self, seconds: float) -> None:
        with self._cond:
            self._now += seconds
            self._cond.notify_all()

    def wait_until(self, deadline: float, wake: threading.Event) -> bool:
        with self._cond:
            while self._now < deadline:
                if wake.is_set():
                    return True
                self._cond.wait(0.05)
            return wake.is_set()
