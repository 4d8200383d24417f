"""Room for task bookkeeping: how many lifecycles record a step at once, and launches first.

A burst's RunTasks and the lifecycles of the tasks already started compete for one interpreter. Lifecycle steps
(PENDING, ACTIVATING, the container starts' checks) wait, up to YIELD_AT_MOST seconds each, while the scheduler
claims or launches, so thousands of running lifecycles do not slow the launches still to come; in a stream that never
pauses they still move, a step per YIELD_AT_MOST at the least."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

YIELD_AT_MOST = 1.0  # seconds a lifecycle step waits for launches in progress


class Bookkeeping:
    """A bounded semaphore for lifecycle steps that gives way to launches in progress."""

    def __init__(self, at_once: int) -> None:
        self._slots = threading.BoundedSemaphore(at_once)
        self._lock = threading.Lock()
        self._launching = 0
        self._quiet = threading.Event()
        self._quiet.set()

    @contextmanager
    def launching(self) -> Iterator[None]:
        """Claims or launches in progress: lifecycle steps wait (bounded) until they are done."""
        self.launch_begun()
        try:
            yield
        finally:
            self.launch_ended()

    def launch_begun(self) -> None:
        with self._lock:
            self._launching += 1
            self._quiet.clear()

    def launch_ended(self) -> None:
        with self._lock:
            self._launching -= 1
            if self._launching == 0:
                self._quiet.set()

    def __enter__(self) -> Bookkeeping:
        self._quiet.wait(YIELD_AT_MOST)
        self._slots.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._slots.release()
