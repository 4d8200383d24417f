"""Health checks run by cronbridge itself (the process launcher): Docker's rules for interval, retries, startPeriod."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

from cronbridge.launchers.base import HealthCheck


class HealthProbe:
    """Runs the check every `interval` seconds (the first after `interval`, as Docker does) until stopped.
    A pass makes the container HEALTHY; `retries` failures in a row make it UNHEALTHY; failures during
    `startPeriod` do not count."""

    def __init__(self, check: HealthCheck, env: dict[str, str], cwd: str | None, alive: Callable[[], bool]) -> None:
        self.check = check
        self.env = env
        self.cwd = cwd
        self.alive = alive
        self.status = "UNKNOWN"
        self._failures = 0
        self._started = time.monotonic()
        self._stop = threading.Event()
        threading.Thread(target=self._loop, daemon=True, name="health").start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.check.interval) and self.alive():
            self._record(self._probe())

    def _probe(self) -> bool:
        try:
            done = subprocess.run(
                self.check.argv(),
                env=self.env,
                cwd=self.cwd,
                timeout=self.check.timeout,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    def _record(self, passed: bool) -> None:
        if passed:
            self.status, self._failures = "HEALTHY", 0
            return
        if time.monotonic() - self._started < self.check.start_period:
            return
        self._failures += 1
        if self._failures >= self.check.retries:
            self.status = "UNHEALTHY"
