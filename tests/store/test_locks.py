"""The database lock: re-entrant, waiters served in the order they came, urgent waiters before everyone."""

from __future__ import annotations

import threading
import time

import pytest

from cronbridge.store.locks import PriorityLock


def waiting(lock: PriorityLock, count: int) -> None:
    """Until `count` threads queue for the lock."""
    deadline = time.monotonic() + 5
    while len(lock._urgent) + len(lock._normal) < count:
        assert time.monotonic() < deadline, "the threads never queued"
        time.sleep(0.001)


def test_the_lock_is_reentrant_and_only_its_holder_may_release_it() -> None:
    lock = PriorityLock()
    with lock, lock:
        assert lock.owned()
    assert not lock.owned()
    with pytest.raises(RuntimeError):
        lock.release()


def test_waiters_get_the_lock_in_turn_and_an_urgent_one_first() -> None:
    lock = PriorityLock()
    order: list[str] = []

    def take(name: str, urgent: bool = False) -> None:
        lock.acquire(urgent=urgent)
        order.append(name)
        lock.release()

    lock.acquire()
    threads = []
    for count, (name, urgent) in enumerate((("first", False), ("second", False), ("lease", True)), start=1):
        thread = threading.Thread(target=take, args=(name, urgent))
        thread.start()
        threads.append(thread)
        waiting(lock, count)
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == ["lease", "first", "second"]


def test_a_busy_thread_cannot_take_the_lock_back_ahead_of_a_waiter() -> None:
    lock = PriorityLock()
    got: list[float] = []
    lock.acquire()
    thread = threading.Thread(target=lambda: (lock.acquire(), got.append(time.monotonic()), lock.release()))
    thread.start()
    waiting(lock, 1)
    lock.release()
    lock.acquire()  # queues behind the waiter instead of barging in
    assert got, "the waiting thread was served first"
    lock.release()
    thread.join(5)


def test_many_threads_keep_the_lock_mutually_exclusive() -> None:
    lock = PriorityLock()
    inside = [0]
    peak = [0]
    count = [0]

    def work() -> None:
        for _ in range(500):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
                count[0] += 1
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert count[0] == 4000 and peak[0] == 1
