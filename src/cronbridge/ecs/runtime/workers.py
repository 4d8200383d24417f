"""Daemon threads reused across tasks: a few for work that moves, more only while work waits behind blocked ones."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

IDLE_TIMEOUT = 30.0  # an idle thread ends after this many seconds without work
AT_ONCE = 64  # threads started as work comes, before any waits
GROW_AFTER = 0.2  # seconds work may wait behind busy threads before one more thread is started


class Workers:
    """Runs each submitted function on a reused daemon thread, named while it works. Up to `at_once` threads start as
    work comes; beyond that, work waits in order, and while it has waited `grow_after` seconds with no thread taking
    any (every thread blocked: a container start, a dependency, a stop timeout), one more thread starts per
    `grow_after`. A burst of ten thousand short lifecycles runs on a few dozen threads, not ten thousand, and work
    that blocks for hours never holds up work that waits."""

    def __init__(
        self, prefix: str, at_once: int = AT_ONCE, grow_after: float = GROW_AFTER, idle_timeout: float = IDLE_TIMEOUT
    ) -> None:
        self.prefix = prefix
        self.at_once = at_once
        self.grow_after = grow_after
        self.idle_timeout = idle_timeout
        self._work: queue.SimpleQueue[tuple[str, Callable[[], None]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # idle threads not yet promised an item of the queue
        self._waiting = 0  # items in the queue that no thread was promised
        self._taken = time.monotonic()  # when a thread last took an item
        self._watching = False

    @property
    def threads(self) -> int:
        return self._threads

    def submit(self, name: str, fn: Callable[[], None]) -> None:
        spawn = watch = False
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
            elif self._threads < self.at_once:
                self._threads += 1
                spawn = True
            else:
                if self._waiting == 0:
                    self._taken = time.monotonic()  # the wait is counted from the first item that waits
                self._waiting += 1
                watch, self._watching = not self._watching, True
        self._work.put((name, fn))
        if spawn:
            self._spawn()
        if watch:
            threading.Thread(target=self._watch, daemon=True, name=f"{self.prefix}-grow").start()

    def _spawn(self) -> None:
        threading.Thread(target=self._serve, daemon=True, name=f"{self.prefix}-idle").start()

    def _serve(self) -> None:
        me = threading.current_thread()
        while True:
            try:
                name, fn = self._work.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # nobody is counting on this thread: it ends
                        self._idle -= 1
                        self._threads -= 1
                        return
                continue  # an item was promised to an idle thread: this one takes it
            self._taken = time.monotonic()
            me.name = f"{self.prefix}-{name}"
            fn()  # the callers' functions handle their own errors (LiveTask.run ends the task visibly)
            me.name = f"{self.prefix}-idle"
            with self._lock:
                if self._waiting > 0:
                    self._waiting -= 1  # this thread takes an item that waits
                else:
                    self._idle += 1

    def _watch(self) -> None:
        """While items wait: one more thread whenever none was taken for `grow_after` seconds."""
        while True:
            time.sleep(self.grow_after / 2)
            with self._lock:
                if self._waiting == 0:
                    self._watching = False
                    return
                stalled = time.monotonic() - self._taken >= self.grow_after
                if stalled:
                    self._waiting -= 1
                    self._threads += 1
                    self._taken = time.monotonic()
            if stalled:
                self._spawn()
