"""The awslogs log driver: a container's output lines become log events in `prefix/container/task-id`, batched."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cronbridge.errors import AwsError, LaunchError
from cronbridge.store.faults import disk_full

log = logging.getLogger("cronbridge.awslogs")

AppendFn = Callable[[str, str, Sequence[tuple[int, str]]], None]
FLUSH_LINES = 1000
FLUSH_SECONDS = 0.2
HELD_EVENTS = 100_000  # lines kept per container while the disk refuses them
RETRY_SECONDS = 1.0  # how often a refused batch is tried again
CLOSE_GRACE = 10.0  # how long a container's end waits for room to store its last lines
LOG_EVERY = 10.0  # seconds between the server log's notes of lost lines (each gives the total so far)
MAX_MESSAGE_BYTES = 262_144 - 26  # the awslogs driver splits longer lines (an event is 256 KiB with its overhead)


def split_message(line: str) -> list[str]:
    """A line as events of at most MAX_MESSAGE_BYTES of UTF-8, never cutting a character in two."""
    data = line.encode("utf-8")
    if len(data) <= MAX_MESSAGE_BYTES:
        return [line]
    pieces: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + MAX_MESSAGE_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: back up to the char's start
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces


@dataclass(frozen=True)
class AwsLogsOptions:
    """The driver options that decide where lines go."""

    group: str
    stream_prefix: str | None
    create_group: bool
    region: str | None = None  # awslogs-region: the Region whose log group receives the lines (else the task's)

    @staticmethod
    def from_options(options: dict[str, str]) -> AwsLogsOptions:
        group = options.get("awslogs-group")
        if not group:
            raise LaunchError(
                "ResourceInitializationError", "failed to validate logger args: awslogs-group is required"
            )
        create = options.get("awslogs-create-group", "false").lower() == "true"
        return AwsLogsOptions(group, options.get("awslogs-stream-prefix"), create, options.get("awslogs-region"))

    def stream_name(self, container_name: str, task_id: str, runtime_id: str) -> str:
        if self.stream_prefix:
            return f"{self.stream_prefix}/{container_name}/{task_id}"
        return runtime_id


class AwsLogsWriter:
    """Buffers one container's lines and appends them to its stream in order; flushes on size, time and close.

    A full disk does not lose lines at once: a batch the store refuses goes back to the front of the buffer and is
    retried (at most HELD_EVENTS lines are kept; past that the oldest go, counted in `dropped`). Whatever else goes
    wrong, the writer counts what it could not store and keeps going: it never raises into the launcher's pump."""

    def __init__(self, append: AppendFn, group: str, stream: str) -> None:
        self._append = append
        self.group = group
        self.stream = stream
        self._buffer: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._closed = threading.Event()
        self._refused_until = 0.0  # while the disk is full, writes do not retry before this (monotonic) time
        self.dropped = 0
        self.why_dropped = ""
        self._logged_at = -LOG_EVERY
        self._timer = threading.Thread(target=self._tick, daemon=True, name=f"awslogs-{stream}")
        self._timer.start()

    def write(self, timestamp: float, line: str) -> None:
        stamp = int(timestamp * 1000)
        with self._lock:
            self._buffer.extend((stamp, piece) for piece in split_message(line))
            full = len(self._buffer) >= FLUSH_LINES
            self._bound()
        if (full or self._closed.is_set()) and time.monotonic() >= self._refused_until:
            self.flush()  # after close no timer flushes: a late line (a pump still reading) is stored at once

    def flush(self) -> bool:
        """Append what is buffered; False when the disk refused it (kept for the next try)."""
        with self._flush_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            return self._deliver(batch) if batch else True

    def _deliver(self, batch: list[tuple[int, str]]) -> bool:
        batch.sort(key=lambda event: event[0])  # stable: keeps line order within a millisecond
        try:
            self._append(self.group, self.stream, batch)
        except Exception as exc:  # the pump must live on whatever the store says
            if disk_full(exc):
                with self._lock:
                    self._buffer[:0] = batch  # first in line for the next try
                    self._bound()
                self._refused_until = time.monotonic() + RETRY_SECONDS
                return False
            self._lose(len(batch), exc.message if isinstance(exc, AwsError) else f"{type(exc).__name__}: {exc}")
            if not isinstance(exc, AwsError):
                log.exception("awslogs: %s/%s could not store %d lines", self.group, self.stream, len(batch))
        self._refused_until = 0.0
        return True

    def _bound(self) -> None:
        """Keep at most HELD_EVENTS lines (the caller holds the lock): the oldest go first, counted."""
        excess = len(self._buffer) - HELD_EVENTS
        if excess > 0:
            del self._buffer[:excess]
            self._lose(excess, "the disk was full")

    def _lose(self, count: int, why: str) -> None:
        """Count lines that cannot be stored; the server log says so (once per LOG_EVERY seconds, with the total)."""
        self.dropped += count
        self.why_dropped = why
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY or self._closed.is_set():
            self._logged_at = now
            log.warning("awslogs: %d lines of %s/%s lost so far: %s", self.dropped, self.group, self.stream, why)

    def _tick(self) -> None:
        while not self._closed.wait(FLUSH_SECONDS):
            if time.monotonic() >= self._refused_until:
                self.flush()

    def close(self, grace: float = CLOSE_GRACE) -> None:
        """Stop the timer and store what is left, waiting up to `grace` seconds for room; then what still cannot
        be stored is dropped and counted."""
        self._closed.set()
        deadline = time.monotonic() + grace
        while not self.flush() and time.monotonic() < deadline:
            time.sleep(RETRY_SECONDS)
        with self._lock:
            left, self._buffer = len(self._buffer), []
        if left:
            self._lose(left, "the disk was full")

    def loss(self) -> str | None:
        """What the container's reason says when lines were lost; None when none were."""
        if not self.dropped:
            return None
        return f"{self.dropped} log lines were lost: {self.why_dropped}"
