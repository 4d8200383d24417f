"""Reused task threads: work runs at once even when every thread is busy, and an idle thread is reused."""

from __future__ import annotations

import threading
import time

from cronbridge.ecs.runtime.workers import Workers


def test_a_blocked_thread_never_delays_the_next_submission() -> None:
    workers = Workers("t")
    release = threading.Event()
    ran = threading.Event()
    workers.submit("blocker", lambda: release.wait(10))
    workers.submit("second", ran.set)
    assert ran.wait(5), "the second function waited for the first"
    release.set()


def test_an_idle_thread_is_reused_and_named_after_its_work() -> None:
    workers = Workers("t")
    seen: list[tuple[int, str]] = []
    done = threading.Event()

    def note() -> None:
        seen.append((threading.get_ident(), threading.current_thread().name))
        done.set()

    for name in ("one", "two", "three"):
        done.clear()
        workers.submit(name, note)
        assert done.wait(5)
        time.sleep(0.05)  # the thread goes back to idle
    assert len({ident for ident, _ in seen}) == 1
    assert [name for _, name in seen] == ["t-one", "t-two", "t-three"]


def test_idle_threads_end_after_the_timeout_and_work_still_runs_later() -> None:
    workers = Workers("t-expire", idle_timeout=0.05)
    done = threading.Event()
    workers.submit("first", done.set)
    assert done.wait(5)
    deadline = time.monotonic() + 5
    while any(t.name.startswith("t-expire") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the idle thread never ended"
        time.sleep(0.02)
    done.clear()
    workers.submit("later", done.set)
    assert done.wait(5)
