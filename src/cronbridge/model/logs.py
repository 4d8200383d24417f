"""CloudWatch Logs' nouns: groups, streams, events, read positions, rejected-event ranges."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


class StreamOrder(enum.StrEnum):
    """How DescribeLogStreams orders streams."""

    NAME = "LogStreamName"
    LAST_EVENT_TIME = "LastEventTime"


@dataclass(frozen=True)
class LogGroup:
    """A log group; `stored_bytes` is the sum over its streams."""

    name: str
    creation_time: int
    retention_in_days: int | None = None
    kms_key_id: str | None = None
    log_group_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=dict)
    stored_bytes: int = 0
    group_id: int = 0


@dataclass(frozen=True)
class LogStream:
    """A log stream with its incrementally kept aggregates (milliseconds since the epoch)."""

    group_name: str
    name: str
    creation_time: int
    first_event_timestamp: int | None = None
    last_event_timestamp: int | None = None
    last_ingestion_time: int | None = None
    stored_bytes: int = 0
    stream_id: int = 0
    group_id: int = 0
    sequence: int = 0


@dataclass(frozen=True, order=True)
class Position:
    """A place in the order of events: (timestamp, event id); (0, 0) lies before every event."""

    timestamp: int = 0
    event_id: int = 0

    def number(self) -> int:
        """One integer for tokens and event ids: timestamp then a 20-digit event id."""
        return self.timestamp * 10**20 + self.event_id

    @staticmethod
    def from_number(n: int) -> Position:
        timestamp, event_id = divmod(n, 10**20)
        return Position(timestamp, event_id)


@dataclass(frozen=True)
class LogEvent:
    """One stored event; `stream_name` is set where events of several streams mix (filtering)."""

    timestamp: int
    message: str
    ingestion_time: int
    event_id: int = 0
    stream_name: str = ""

    @property
    def position(self) -> Position:
        return Position(self.timestamp, self.event_id)


@dataclass(frozen=True)
class EventsPage:
    """A page of one stream's events and the positions to read on from, forward and backward."""

    events: list[LogEvent]
    forward: Position
    backward: Position


@dataclass(frozen=True)
class FilterPage:
    """Matching events of a group by timestamp; `next`: where the next page starts, if any."""

    events: list[LogEvent]
    streams: list[str]
    next: Position | None


@dataclass(frozen=True)
class Rejected:
    """PutLogEvents' rejected ranges: indexes into the batch (None: nothing rejected so)."""

    too_new_start: int | None = None
    too_old_end: int | None = None
    expired_end: int | None = None

    def any(self) -> bool:
        return (self.too_new_start, self.too_old_end, self.expired_end) != (None, None, None)


@dataclass(frozen=True)
class Substrings:
    """What every message a filter pattern matches contains: all of `required`, one of `optional` (when any), none
    of `excluded` (case-sensitive). The store tests it in its own SQL; the pattern checks the rest."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
