"""Where a launcher delivers one container's output and exit: held until the log stream opens, then the writer."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cronbridge.ecs.runtime.awslogs import AwsLogsWriter
from cronbridge.launchers.base import ExitInfo, Stream


@dataclass(frozen=True)
class Resume:
    """The last stored event of a stream (ms) and the messages stored at that millisecond."""

    last_ms: int
    seen: collections.Counter[str]

    @property
    def since(self) -> float:
        return self.last_ms / 1000

    def fresh(self, timestamp: float, line: str) -> bool:
        """Whether a line read again from the start point is new (not yet stored)."""
        ms = int(timestamp * 1000)
        if ms > self.last_ms:
            return True
        if ms == self.last_ms and self.seen[line] > 0:
            self.seen[line] -= 1
            return False
        return ms == self.last_ms


class Sink:
    """One container's output and exit. Output that arrives before the log stream is open (a fast container can
    finish before `start` returns) is held and delivered once it opens; so is the exit."""

    def __init__(self, name: str, on_exit: Callable[[str, ExitInfo], None], resume: Resume | None = None) -> None:
        self.name = name
        self.on_exit = on_exit
        self.resume = resume
        self._lock = threading.Lock()
        self._held: list[tuple[float, str]] = []
        self._writer: AwsLogsWriter | None = None
        self._attached = False
        self._exit: ExitInfo | None = None

    def log(self, stream: Stream, timestamp: float, line: str) -> None:
        with self._lock:
            if self.resume is not None and not self.resume.fresh(timestamp, line):
                return
            if not self._attached:
                self._held.append((timestamp, line))
                return
            writer = self._writer
        if writer is not None:
            writer.write(timestamp, line)

    def attach(self, writer: AwsLogsWriter | None) -> None:
        """The log destination is known (None: the container has no awslogs); deliver what was held, before any
        line that arrives meanwhile (lines keep their order)."""
        with self._lock:
            self._writer, self._attached = writer, True
            held, self._held = self._held, []
            exit_info = self._exit
            if writer is not None:
                for timestamp, line in held:
                    writer.write(timestamp, line)
        if exit_info is not None:
            self.on_exit(self.name, exit_info)

    def exited(self, info: ExitInfo) -> None:
        with self._lock:
            if not self._attached:
                self._exit = info
                return
        self.on_exit(self.name, info)
