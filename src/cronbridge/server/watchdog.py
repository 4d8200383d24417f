"""The watchdog: parts of the server report how long they have gone without progress while they had work; when one
passes the limit, every thread's stack is written to the log once, and the health check says "degraded" (why) until
progress resumes."""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

log = logging.getLogger("cronbridge.watchdog")
Stall = Callable[[], float]
"""Seconds a part has had work without making progress (0.0 when it is idle or moving)."""


@dataclass(frozen=True)
class Verdict:
    status: str  # "ok" | "degraded"
    reasons: tuple[str, ...] = ()


class LoopBeat:
    """The event loop's pulse: a callback on the loop marks the time every `period` seconds; a loop that runs
    something that never yields stops marking it."""

    def __init__(self, period: float = 0.25) -> None:
        self.period = period
        self._last = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start beating on `loop` (called on the loop's thread)."""
        self._loop = loop
        self._last = time.monotonic()
        loop.call_soon(self._beat)

    def _beat(self) -> None:
        self._last = time.monotonic()
        assert self._loop is not None
        self._loop.call_later(self.period, self._beat)

    def stalled_for(self) -> float:
        if self._loop is None or self._loop.is_closed():
            return 0.0
        return max(0.0, time.monotonic() - self._last - self.period)


class Watchdog:
    """Checks every part's stall on a thread of its own; a part stalled `limit` seconds or more makes the server
    degraded. The first stall of an episode writes every thread's stack (faulthandler) to `out`."""

    def __init__(self, limit: float, parts: dict[str, Stall], out: TextIO | None = None) -> None:
        self.limit = limit
        self.parts = parts
        self.out = out or sys.stderr
        self.period = min(1.0, limit / 4)
        self._dumped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="watchdog")

    def verdict(self) -> Verdict:
        """Now: ok, or degraded with each stalled part's reason (reads memory only)."""
        reasons = []
        for name, stalled_for in self.parts.items():
            seconds = stalled_for()
            if seconds >= self.limit:
                reasons.append(f"{name} made no progress for {seconds:.1f} s")
        return Verdict("degraded", tuple(reasons)) if reasons else Verdict("ok")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def check(self) -> Verdict:
        """One look: log a new stall with every thread's stack (once per episode), and its end."""
        verdict = self.verdict()
        if verdict.reasons and not self._dumped:
            self._dumped = True
            log.error("stall: %s; the stack of every thread follows", "; ".join(verdict.reasons))
            self._dump(verdict)
        elif not verdict.reasons and self._dumped:
            self._dumped = False
            log.warning("stall over: every watched part makes progress again")
        return verdict

    def _dump(self, verdict: Verdict) -> None:
        self.out.write(f"cronbridge watchdog: {'; '.join(verdict.reasons)}\n")
        self.out.flush()
        faulthandler.dump_traceback(file=self.out, all_threads=True)
        self.out.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.check()
            except Exception:  # the watchdog must outlive whatever it watches
                log.exception("watchdog check failed")
