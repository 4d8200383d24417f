"""The awslogs log driver: a container's output lines become log events in `prefix/container/task-id`, batched."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cronbridge.errors import AwsError, LaunchError

AppendFn = Callable[[str, str, Sequence[tuple[int, str]]], None]
FLUSH_LINES = 1000
FLUSH_SECONDS = 0.2
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

    @staticmethod
    def from_options(options: dict[str, str]) -> AwsLogsOptions:
        group = options.get("awslogs-group")
        if not group:
            raise LaunchError(
                "ResourceInitializationError", "failed to validate logger args: awslogs-group is required"
            )
        create = options.get("awslogs-create-group", "false").lower() == "true"
        return AwsLogsOptions(group, options.get("awslogs-stream-prefix"), create)

    def stream_name(self, container_name: str, task_id: str, runtime_id: str) -> str:
        if self.stream_prefix:
            return f"{self.stream_prefix}/{container_name}/{task_id}"
        return runtime_id


class AwsLogsWriter:
    """Buffers one container's lines and appends them to its stream in order; flushes on size, time and close."""

    def __init__(self, append: AppendFn, group: str, stream: str) -> None:
        self._append = append
        self.group = group
        self.stream = stream
        self._buffer: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._closed = threading.Event()
        self.dropped = 0
        self._timer = threading.Thread(target=self._tick, daemon=True, name=f"awslogs-{stream}")
        self._timer.start()

    def write(self, timestamp: float, line: str) -> None:
        stamp = int(timestamp * 1000)
        with self._lock:
            self._buffer.extend((stamp, piece) for piece in split_message(line))
            full = len(self._buffer) >= FLUSH_LINES
        if full:
            self.flush()

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if batch:
                self._deliver(batch)

    def _deliver(self, batch: list[tuple[int, str]]) -> None:
        batch.sort(key=lambda event: event[0])  # stable: keeps line order within a millisecond
        try:
            self._append(self.group, self.stream, batch)
        except AwsError:
            self.dropped += len(batch)

    def _tick(self) -> None:
        while not self._closed.wait(FLUSH_SECONDS):
            self.flush()

    def close(self) -> None:
        self._closed.set()
        self.flush()
