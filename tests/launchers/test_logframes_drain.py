"""Waiting for log pumps after a container's exit: as long as they read, never longer than an idle spell."""

from __future__ import annotations

import threading
import time
from typing import Any

from cronbridge.launchers import logframes
from cronbridge.launchers.logframes import LineReader, drain


class Sink:
    def log(self, stream: str, timestamp: float, line: str) -> None: ...

    def exited(self, info: Any) -> None: ...


def test_a_slow_pump_that_keeps_reading_is_waited_for_past_the_idle_spell(monkeypatch: Any) -> None:
    monkeypatch.setattr(logframes, "PUMP_IDLE_SECONDS", 0.2)
    reader = LineReader("stdout", Sink())  # type: ignore[arg-type]

    def slow() -> None:
        for _ in range(10):  # 1 s of reading in all, a line every 0.1 s
            time.sleep(0.1)
            reader.count += 1

    pump = threading.Thread(target=slow)
    pump.start()
    drain([pump], [reader])
    assert not pump.is_alive() and reader.count == 10


def test_a_stuck_pump_is_given_up_after_an_idle_spell(monkeypatch: Any) -> None:
    monkeypatch.setattr(logframes, "PUMP_IDLE_SECONDS", 0.2)
    reader = LineReader("stdout", Sink())  # type: ignore[arg-type]
    stop = threading.Event()
    pump = threading.Thread(target=stop.wait, args=(30,))
    pump.start()
    started = time.monotonic()
    drain([pump], [reader])
    assert time.monotonic() - started < 5
    stop.set()
