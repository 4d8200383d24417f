"""Long polling's wake-ups: a waiter sleeps on its event loop until a send on its queue, a look at the database finds
a message, or its time runs out."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from cronbridge.sqs.arrivals import Arrivals

T = TypeVar("T")


def on_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a new loop in a thread of its own, as the server's loop runs: the test session's main thread may already
    have a loop running (Playwright's sync API keeps one for the session's browser)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=120)


def test_a_send_on_the_queue_wakes_its_waiter_at_once_from_another_thread() -> None:
    arrivals = Arrivals(poll=10.0)

    async def scenario() -> tuple[bool, float]:
        started = time.monotonic()
        waiting = asyncio.ensure_future(arrivals.wait("q", 20.0, lambda: False))
        while arrivals.waiting("q") == 0:
            await asyncio.sleep(0.01)
        threading.Timer(0.05, arrivals.notify, args=("q",)).start()
        woke = await waiting
        return woke, time.monotonic() - started

    woke, took = on_own_loop(scenario())
    assert woke and took < 5.0  # the poll is 10 s: only the send can have woken it
    assert arrivals.waiting("q") == 0


def test_a_send_on_another_queue_does_not_wake_it_and_the_wait_ends_on_time() -> None:
    arrivals = Arrivals(poll=10.0)

    async def scenario() -> bool:
        waiting = asyncio.ensure_future(arrivals.wait("q", 0.3, lambda: False))
        while arrivals.waiting("q") == 0:
            await asyncio.sleep(0.01)
        arrivals.notify("other")
        return await waiting

    assert on_own_loop(scenario()) is False


def test_a_message_found_by_the_look_at_the_database_ends_the_wait() -> None:
    arrivals = Arrivals(poll=0.05)
    looks: list[float] = []

    def ready() -> bool:  # another process's send, seen on the third look
        looks.append(time.monotonic())
        return len(looks) >= 3

    assert on_own_loop(arrivals.wait("q", 20.0, ready)) is True
    assert len(looks) == 3


def test_a_message_already_there_when_the_wait_begins_ends_it_at_once() -> None:
    arrivals = Arrivals(poll=10.0)
    assert on_own_loop(arrivals.wait("q", 20.0, lambda: True)) is True
