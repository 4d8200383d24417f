"""Daemon threads reused across tasks: no thread start (and its wait) per task once the pool is warm."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

IDLE_TIMEOUT = 30.0  # an idle thread ends after this many seconds without work


class Workers:
    """Runs each submitted function on an idle thread, or on a new one when every thread is busy: unbounded (a
    task's lifecycle may block for hours), daemon (never holds up the interpreter's exit), named while it works."""

    def __init__(self, prefix: str, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.prefix = prefix
        self.idle_timeout = idle_timeout
        self._work: queue.SimpleQueue[tuple[str, Callable[[], None]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # idle threads not yet promised an item of the queue

    def submit(self, name: str, fn: Callable[[], None]) -> None:
        with self._lock:
            reuse = self._idle > 0
            if reuse:
                self._idle -= 1
        self._work.put((name, fn))
        if not reuse:
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
                        return
                continue  # an item was promised to an idle thread: this one takes it
            me.name = f"{self.prefix}-{name}"
            fn()  # the callers' functions handle their own errors (LiveTask.run ends the task visibly)
            me.name = f"{self.prefix}-idle"
            with self._lock:
                self._idle += 1
