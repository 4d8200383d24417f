"""Lifecycle bookkeeping gives way to launches in progress, for a bounded time."""

from __future__ import annotations

import threading

import pytest

from cronbridge.ecs.runtime import bookkeeping
from cronbridge.ecs.runtime.bookkeeping import Bookkeeping


def step_in(room: Bookkeeping) -> threading.Event:
    """Start a lifecycle step on a thread; the event is set once it got in."""
    entered = threading.Event()

    def step() -> None:
        with room:
            entered.set()

    threading.Thread(target=step, daemon=True).start()
    return entered


def test_a_lifecycle_step_waits_while_a_launch_is_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bookkeeping, "YIELD_AT_MOST", 60.0)
    room = Bookkeeping(4)
    with room.launching():
        entered = step_in(room)
        assert not entered.wait(0.3)
    assert entered.wait(10)  # the launches are done: it goes on at once


def test_a_lifecycle_step_goes_on_when_launches_never_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bookkeeping, "YIELD_AT_MOST", 0.05)
    room = Bookkeeping(4)
    room.launch_begun()  # a stream of launches that does not end
    assert step_in(room).wait(10)


def test_no_more_steps_than_the_room_holds_run_at_once() -> None:
    room = Bookkeeping(1)
    with room:
        second = step_in(room)
        assert not second.wait(0.3)
    assert second.wait(10)
