"""Docker log frames to lines, shared by the Docker and Swarm launchers: timestamps, 16 KiB pieces joined again,
entries already read skipped when a stream is read a second time."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime

from cronbridge.launchers.base import ContainerSink, Stream

NS = 1_000_000_000
ENGINE_PIECE_BYTES = 16 * 1024  # the engine's log copier cuts lines longer than this into pieces
PUMP_IDLE_SECONDS = 30.0


class LineReader:
    """Log frames to lines. The engine stores a long line as 16 KiB pieces, each with its own timestamp; the `local`
    driver gives back the last piece without its newline, so a piece ends a line when it has the newline or is
    shorter than 16 KiB. Pieces are joined as bytes, so a UTF-8 character cut between pieces survives. Entries
    already read (by timestamp, then count at that timestamp) are skipped when the stream is read again."""

    def __init__(self, stream: Stream, sink: ContainerSink) -> None:
        self.stream = stream
        self.sink = sink
        self.pending = b""
        self.first_stamp = b""
        self.last_ns = 0
        self.at_last = 0
        self.count = 0  # pieces read, for whoever waits on the reader's progress

    def read(self, frames: Iterator[bytes]) -> None:
        seen_at_last, replay_ns = 0, self.last_ns
        for frame in frames:
            for stamp, piece in entries(frame):
                ns = stamp_ns(stamp)
                if replay_ns and ns <= replay_ns:
                    seen_at_last += ns == replay_ns
                    if ns < replay_ns or seen_at_last <= self.at_last:
                        continue
                    replay_ns = 0
                self._take(stamp, ns, piece)

    def _take(self, stamp: bytes, ns: int, piece: bytes) -> None:
        self.count += 1
        self.at_last = self.at_last + 1 if ns == self.last_ns else 1
        self.last_ns = ns
        self.first_stamp = self.first_stamp or stamp
        if piece.endswith(b"\n") or len(piece) < ENGINE_PIECE_BYTES:
            deliver(self.first_stamp, self.pending + piece.removesuffix(b"\n"), self.stream, self.sink)
            self.pending, self.first_stamp = b"", b""
        else:
            self.pending += piece

    def close(self) -> None:
        if self.pending:
            deliver(self.first_stamp, self.pending, self.stream, self.sink)


def stamp_ns(stamp: bytes) -> int:
    """RFC 3339 with nanoseconds -> integer nanoseconds (exact, for ordering and de-duplication)."""
    text = stamp.decode("ascii", "replace")
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    if not match:
        return 0
    whole = int(datetime.fromisoformat(match.group(1) + "+00:00").timestamp())
    return whole * NS + int((match.group(2) or "0").ljust(9, "0")[:9])


def entries(frame: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(timestamp, piece) for each log entry in a frame; a piece keeps its newline when it ends a line."""
    while frame:
        stamp, _, rest = frame.partition(b" ")
        end = rest.find(b"\n")
        if end < 0:
            yield stamp, rest
            return
        yield stamp, rest[: end + 1]
        frame = rest[end + 1 :]


def deliver(stamp: bytes, message: bytes, stream: Stream, sink: ContainerSink) -> None:
    when = parse_time(stamp.decode("ascii", "replace")) or time.time()
    sink.log(stream, when, message.decode("utf-8", "replace"))


def parse_time(text: str | None) -> float | None:
    """Docker's RFC 3339 timestamps (nanoseconds) to epoch seconds."""
    if not text or text.startswith("0001-"):
        return None
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    if not match:
        return None
    whole = datetime.fromisoformat(match.group(1) + "+00:00").timestamp()
    return whole + float("0." + (match.group(2) or "0"))


def drain(pumps: list[threading.Thread], readers: list[LineReader]) -> None:
    """After the exit, wait for the pumps as long as they keep reading (100,000 lines can take minutes on a loaded
    machine, and the container's logs go with it); give up only when no line came for PUMP_IDLE_SECONDS."""
    seen = -1
    while any(p.is_alive() for p in pumps):
        now = sum(r.count for r in readers)
        if now == seen:
            return
        seen = now
        for pump in pumps:
            pump.join(PUMP_IDLE_SECONDS)
