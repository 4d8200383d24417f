"""The database's lock: re-entrant, first come first served among waiters, and with a priority lane (the scheduler
lease must renew on time however many threads wait; Python's own locks are neither fair nor prioritized)."""

from __future__ import annotations

import collections
import threading
import time
from types import TracebackType


class PriorityLock:
    """A re-entrant lock handed over on release: to the oldest urgent waiter, else to the oldest waiter. A thread
    arriving while others wait queues behind them, so a busy thread cannot take the lock back again and again."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._count = 0
        self._urgent: collections.deque[tuple[int, threading.Lock]] = collections.deque()
        self._normal: collections.deque[tuple[int, threading.Lock]] = collections.deque()
        self._since = 0.0  # when the current owner took it (monotonic)

    def acquire(self, urgent: bool = False) -> None:
        me = threading.get_ident()
        if self._owner == me:  # only this thread can have made itself the owner
            self._count += 1
            return
        with self._mutex:
            if self._owner is None and not self._urgent and not self._normal:
                self._owner, self._count, self._since = me, 1, time.monotonic()
                return
            turn = threading.Lock()
            turn.acquire()
            (self._urgent if urgent else self._normal).append((me, turn))
        turn.acquire()  # released by the thread that hands the lock over, with this thread as its owner
        self._count, self._since = 1, time.monotonic()

    def release(self) -> None:
        if self._owner != threading.get_ident():
            raise RuntimeError("cannot release a lock this thread does not hold")
        self._count -= 1
        if self._count:
            return
        with self._mutex:
            queue = self._urgent or self._normal
            if not queue:
                self._owner = None
                return
            self._owner, turn = queue.popleft()
        turn.release()

    def stalled_for(self) -> float:
        """Seconds the current owner has held the lock while other threads wait for it (0.0 when nobody waits)."""
        if self._owner is None or not (self._urgent or self._normal):
            return 0.0
        return max(0.0, time.monotonic() - self._since)

    def owned(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._owner == threading.get_ident()

    def __enter__(self) -> PriorityLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
