"""Long polling's wake-ups: a ReceiveMessage waiting on a queue sleeps on its event loop (no thread, no lock held)
until a message is sent to that queue in this process, or a short look at the database (every POLL seconds, on a
worker thread) finds one receivable: a message sent by another server process, a delay or visibility timeout ended."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

POLL = 0.25  # seconds between looks at the database while waiting (what other processes sent, what became visible)

Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Event]


class Arrivals:
    """Who waits on which queue; `notify` (any thread) wakes them."""

    def __init__(self, poll: float = POLL) -> None:
        self.poll = poll
        self._lock = threading.Lock()
        self._waiting: dict[str, set[Waiter]] = {}

    def notify(self, queue: str) -> None:
        """A message may be receivable on `queue` now (called once the send has committed)."""
        with self._lock:
            waiters = list(self._waiting.get(queue, ()))
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # its loop has closed: the request is gone
                loop.call_soon_threadsafe(event.set)

    def waiting(self, queue: str) -> int:
        with self._lock:
            return len(self._waiting.get(queue, ()))

    async def wait(self, queue: str, seconds: float, ready: Callable[[], bool]) -> bool:
        """Sleep until a message may be receivable on `queue` (True) or `seconds` have passed (False). `ready` is the
        look at the database (run on a worker thread): once at the start, so a send between the caller's empty
        receive and this wait is not missed, then every `poll` seconds."""
        loop = asyncio.get_running_loop()
        waiter: Waiter = (loop, asyncio.Event())
        with self._lock:
            self._waiting.setdefault(queue, set()).add(waiter)
        try:
            deadline = loop.time() + seconds
            if await loop.run_in_executor(None, ready):
                return True
            while (remaining := deadline - loop.time()) > 0:
                try:
                    await asyncio.wait_for(waiter[1].wait(), min(self.poll, remaining))
                    return True
                except TimeoutError:
                    if await loop.run_in_executor(None, ready):
                        return True
            return False
        finally:
            with self._lock:
                found = self._waiting.get(queue)
                if found is not None:
                    found.discard(waiter)
                    if not found:
                        del self._waiting[queue]
