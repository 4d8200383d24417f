"""CloudWatch Logs' domain: groups, streams, events, retention, tags; time from the Clock."""

from __future__ import annotations

import base64
import bisect
import contextlib
import json
import re
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from cronbridge import nesting
from cronbridge.clock import Clock
from cronbridge.errors import AlreadyExists, AwsError, InvalidParameter, NotFound
from cronbridge.logs import filter as patterns
from cronbridge.logs.metric_filters import MetricFilters
from cronbridge.model.logs import (
    RETENTION_DAYS,
    EventsPage,
    FilterPage,
    LogEvent,
    LogGroup,
    LogStream,
    Position,
    Rejected,
    StreamOrder,
)
from cronbridge.scope import HOME, Scope
from cronbridge.store.database import Database
from cronbridge.store.logs import END_OF_TIME, LogStore

MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_EVENTS = 10_000
MAX_EVENT_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_SPAN_MS = 24 * 3600 * 1000
TOO_NEW_MS = 2 * 3600 * 1000
TOO_OLD_MS = 14 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
MAX_TAGS = 50
SCAN_CHUNK = 2000
SCAN_ROWS = 40_000
# work one FilterLogEvents call may do matching in Python: characters x the pattern's weight, plus a row's cost; past
# it the page ends early with a token, as AWS's own searches do (about 0.3 s for the costliest pattern, idle core)
SCAN_BUDGET = 2_000_000
ROW_COST = 64
_GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]+")
_STREAM_NAME = re.compile(r"[^:*]*")

GROUP_NOT_FOUND = "The specified log group does not exist."
STREAM_NOT_FOUND = "The specified log stream does not exist."
_STAMP, _MESSAGE = itemgetter(0), itemgetter(1)  # of an event (timestamp, message): C-level getters for map()


def encode_token(key: Any) -> str:
    """An opaque paging token for a key (a name, or a list of values)."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_token(token: str) -> Any:
    try:
        return nesting.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError) as exc:
        raise InvalidParameter("The specified nextToken is invalid.") from exc


def _event_sizes(events: Sequence[tuple[int, str]]) -> list[int]:
    """Each event's size as CloudWatch Logs counts it: its UTF-8 bytes plus 26 (an ASCII message's length is its
    byte count, and `isascii` is a flag Python keeps on the string: no encoding needed)."""
    messages = list(map(_MESSAGE, events))
    if all(map(str.isascii, messages)):
        return list(map(EVENT_OVERHEAD.__add__, map(len, messages)))
    try:
        return [len(message.encode("utf-8")) + EVENT_OVERHEAD for message in messages]
    except UnicodeEncodeError as exc:
        raise InvalidParameter("Log event messages must be valid UTF-8.") from exc


def check_batch(events: Sequence[tuple[int, str]], sizes: Sequence[int]) -> None:
    """PutLogEvents' whole-batch rules; raises InvalidParameter for the first one broken."""
    if not events or len(events) > MAX_BATCH_EVENTS:
        raise InvalidParameter(f"A batch must hold between 1 and {MAX_BATCH_EVENTS} log events.")
    total = sum(sizes)
    if total > MAX_BATCH_BYTES:
        raise InvalidParameter(f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")
    if max(sizes) > MAX_EVENT_BYTES:
        raise InvalidParameter(f"Log event too large: {max(sizes)} bytes exceeds limit of {MAX_EVENT_BYTES}")
    stamps = list(map(_STAMP, events))
    if stamps != sorted(stamps):  # a sorted batch is one run for Timsort: a single pass in C
        raise InvalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
    if stamps[-1] - stamps[0] > MAX_SPAN_MS:
        raise InvalidParameter(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
        )


def triage(stamps: Sequence[int], now: int, retention_days: int | None) -> Rejected:
    """Which events of a sorted batch are too new, too old (14 days) or past the retention (binary searches)."""
    first_new = bisect.bisect_right(stamps, now + TOO_NEW_MS)
    too_new = first_new if first_new < len(stamps) else None
    too_old = bisect.bisect_left(stamps, now - TOO_OLD_MS)
    expired = 0
    if retention_days is not None:
        expired = bisect.bisect_left(stamps, now - retention_days * DAY_MS)
    return Rejected(too_new, too_old or None, expired or None)


def kept_range(rejected: Rejected, count: int) -> tuple[int, int]:
    """The slice [low, high) of a batch that survives its rejected ranges."""
    low = max(rejected.too_old_end or 0, rejected.expired_end or 0)
    high = count if rejected.too_new_start is None else rejected.too_new_start
    return low, max(low, high)


class LogService:
    """Log groups, streams and events of one account and Region (System keeps one per Region used)."""

    def __init__(self, db: Database, clock: Clock, filters: MetricFilters, scope: Scope = HOME) -> None:
        self.scope = scope
        self.db = db
        self.store = LogStore(db, scope)
        self.filters = filters  # metric filters: every stored event updates their metrics in the same transaction
        self.clock = clock

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def group_arn(self, group: str) -> str:
        """The group's ARN without the trailing `:*` (DescribeLogGroups' `logGroupArn`)."""
        return self.scope.arn("logs", f"log-group:{group}")

    def stream_arn(self, group: str, stream: str) -> str:
        return f"{self.group_arn(group)}:log-stream:{stream}"

    def group_name(self, identifier: str) -> str:
        """A group name from a name or a log-group ARN (with or without `:*`); an ARN of another account or Region
        names no group here."""
        if not identifier.startswith("arn:"):
            return identifier
        parts = identifier.split(":", 6)
        if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
            raise InvalidParameter(f"Invalid log group identifier: {identifier}")
        if (parts[3], parts[4]) != (self.scope.region, self.scope.account):
            raise NotFound(GROUP_NOT_FOUND)
        return parts[6].removesuffix(":*")

    # groups

    def create_group(
        self,
        name: str,
        tags: dict[str, str] | None = None,
        kms_key_id: str | None = None,
        log_group_class: str | None = None,
    ) -> LogGroup:
        if not _GROUP_NAME.fullmatch(name) or len(name) > 512:
            raise InvalidParameter(
                f"1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy"
                " constraint:"
                r" Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+"
            )
        _check_tag_count(tags or {})
        group = LogGroup(name, self.now_ms(), None, kms_key_id, log_group_class or "STANDARD", dict(tags or {}))
        if not self.store.insert_group(group):
            raise AlreadyExists("The specified log group already exists")
        return self.get_group(name)

    def get_group(self, name: str) -> LogGroup:
        group = self.store.group(name)
        if group is None:
            raise NotFound(GROUP_NOT_FOUND)
        return group

    def group_exists(self, name: str) -> bool:
        return self.store.group_id(name) is not None

    def delete_group(self, name: str) -> None:
        """Delete a group with its streams and events."""
        with self.db.transaction():
            if not self.store.delete_group(name):
                raise NotFound(GROUP_NOT_FOUND)
            self.filters.forget_group(name)

    def describe_groups(
        self,
        prefix: str = "",
        contains: str = "",
        limit: int = 50,
        token: str | None = None,
    ) -> tuple[list[LogGroup], str | None]:
        """Groups in name order; the token for the next page when there is one."""
        after = str(decode_token(token)) if token else ""
        found = self.store.groups(prefix, contains, after, limit + 1)
        page = found[:limit]
        return page, encode_token(page[-1].name) if len(found) > limit else None

    def put_retention(self, name: str, days: int) -> None:
        if days not in RETENTION_DAYS:
            raise InvalidParameter(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to"
                " satisfy constraint: Member must satisfy enum value set:"
                f" [{', '.join(map(str, RETENTION_DAYS))}]"
            )
        if not self.store.set_retention(name, days):
            raise NotFound(GROUP_NOT_FOUND)

    def delete_retention(self, name: str) -> None:
        if not self.store.set_retention(name, None):
            raise NotFound(GROUP_NOT_FOUND)

    def tags(self, group: str) -> dict[str, str]:
        return self.get_group(group).tags

    def tag(self, group: str, tags: dict[str, str]) -> None:
        merged = {**self.tags(group), **tags}
        _check_tag_count(merged)
        self.store.set_tags(group, merged)

    def untag(self, group: str, keys: Sequence[str]) -> None:
        remaining = {k: v for k, v in self.tags(group).items() if k not in set(keys)}
        self.store.set_tags(group, remaining)

    # streams

    def create_stream(self, group: str, name: str) -> None:
        if not _STREAM_NAME.fullmatch(name) or not 1 <= len(name) <= 512:
            raise InvalidParameter(
                f"1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy"
                " constraint:"
                " Member must satisfy regular expression pattern: [^:*]*"
            )
        group_id = self._group_id(group)
        if not self.store.insert_stream(group_id, name, self.now_ms()):
            raise AlreadyExists("The specified log stream already exists")

    def ensure_stream(self, group: str, stream: str) -> None:
        """Create the stream unless it exists; the group must exist."""
        with contextlib.suppress(AlreadyExists):
            self.create_stream(group, stream)

    def delete_stream(self, group: str, name: str) -> None:
        if not self.store.delete_stream(self._group_id(group), name):
            raise NotFound(STREAM_NOT_FOUND)

    def get_stream(self, group: str, name: str) -> LogStream:
        stream = self.store.stream(group, name)
        if stream is None:
            self._group_id(group)
            raise NotFound(STREAM_NOT_FOUND)
        return stream

    def describe_streams(
        self,
        group: str,
        prefix: str = "",
        order_by: StreamOrder = StreamOrder.NAME,
        descending: bool = False,
        limit: int = 50,
        token: str | None = None,
    ) -> tuple[list[LogStream], str | None]:
        """A group's streams by name or last event time; a token when there is a next page."""
        group_id = self._group_id(group)
        after = decode_token(token) if token else None
        if order_by is StreamOrder.NAME:
            found = self.store.streams_by_name(group_id, prefix, after, descending, limit + 1)
            key: Any = found[limit - 1].name if len(found) > limit else None
        else:
            if prefix:
                raise InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
            found = self.store.streams_by_time(group_id, _time_key(after), descending, limit + 1)
            last = found[limit - 1] if len(found) > limit else None
            key = None if last is None else [last.last_event_timestamp or 0, last.name]
        return found[:limit], None if key is None else encode_token(key)

    # events

    def put_events(self, group: str, stream: str, events: Sequence[tuple[int, str]]) -> tuple[Rejected, str]:
        """PutLogEvents: check the batch, keep what is neither too new nor too old."""
        found = self.store.stream_and_retention(group, stream)
        if found is None:
            self._group_id(group)  # NotFound for the group, else for the stream
            raise NotFound(STREAM_NOT_FOUND)
        target, retention = found  # one read: the group's retention comes with the stream
        sizes = _event_sizes(events)
        check_batch(events, sizes)
        now = self.now_ms()
        rejected = triage(list(map(_STAMP, events)), now, retention)
        low, high = kept_range(rejected, len(events))
        with self.db.transaction():
            sequence = self.store.append(target, events[low:high], now, sum(sizes[low:high]))
            self.filters.stored(group, events[low:high])
        return rejected, f"{sequence:056d}"

    def append(self, group: str, stream: str, events: Sequence[tuple[int, str]]) -> None:
        """The log driver's path: no batch rules, one transaction; NotFound without the stream."""
        if events:
            clean = [(ts, m.encode("utf-8", "replace").decode("utf-8")) for ts, m in events]
            size = sum(len(m) for _, m in clean) + EVENT_OVERHEAD * len(clean)
            with self.db.transaction():
                self.store.append(self.get_stream(group, stream), clean, self.now_ms(), size)
                self.filters.stored(group, clean)

    def get_events(
        self,
        group: str,
        stream: str,
        start: int | None = None,
        end: int | None = None,
        after: Position | None = None,
        before: Position | None = None,
        limit: int | None = None,
        start_from_head: bool = False,
    ) -> EventsPage:
        """GetLogEvents: a page forward from `after`, backward from `before`, or at head or tail."""
        sid = self.get_stream(group, stream).stream_id
        low, high, count = start or 0, END_OF_TIME if end is None else end, limit or 10_000
        if after is None and before is None and start_from_head:
            after = Position()
        if after is not None:
            events = self.store.events_after(sid, after, low, high, count)
            if not events:
                return EventsPage([], after, Position(after.timestamp, after.event_id + 1))
        else:
            events = self.store.events_before(sid, before, low, high, count)
            if not events:
                origin = before or Position()
                return EventsPage([], Position(origin.timestamp, max(origin.event_id - 1, 0)), origin)
        return EventsPage(events, events[-1].position, events[0].position)

    def filter_events(
        self,
        group: str,
        stream_names: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        start: int | None = None,
        end: int | None = None,
        pattern: str | None = None,
        limit: int | None = None,
        after: Position | None = None,
        interleaved: bool = True,
    ) -> FilterPage:
        """FilterLogEvents: a group's matching events by timestamp (always interleaved)."""
        if stream_names and stream_prefix:
            raise InvalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive")
        compiled = patterns.parse(pattern)
        group_id = self._group_id(group)
        names = self.store.stream_names(group_id)
        chosen = _choose_streams(names, stream_names, stream_prefix)
        if chosen is not None and not chosen:
            return FilterPage([], [], None)
        count = limit or 10_000
        low, high = start or 0, END_OF_TIME if end is None else end
        found, resume = self._matching(group_id, compiled, after or Position(), (low, high), chosen, count)
        events = [
            LogEvent(e.timestamp, e.message, e.ingestion_time, e.event_id, names.get(sid, "")) for sid, e in found
        ]
        searched = sorted(names[i] for i in (chosen if chosen is not None else names))
        return FilterPage(events, searched, resume)

    def _matching(
        self,
        group_id: int,
        pattern: patterns.Pattern,
        after: Position,
        window: tuple[int, int],
        streams: list[int] | None,
        count: int,
    ) -> tuple[list[tuple[int, LogEvent]], Position | None]:
        """Up to `count` matches and where to resume (None: searched to the end).

        Exact patterns run in SQL; others run over SQL-prefiltered chunks checked here, at most
        SCAN_ROWS rows and SCAN_BUDGET work per call (then, as AWS does, the page may be short but carry a token).
        """
        if pattern.exact:
            rows = self.store.scan(group_id, after, *window, streams, pattern.prefilter(), count + 1)
            return rows[:count], rows[count - 1][1].position if len(rows) > count else None
        found: list[tuple[int, LogEvent]] = []
        budget = SCAN_BUDGET
        for _ in range(SCAN_ROWS // SCAN_CHUNK):
            chunk = self.store.scan(group_id, after, *window, streams, pattern.prefilter(), SCAN_CHUNK)
            for item in chunk:
                if budget <= 0:
                    return found, after
                budget -= ROW_COST + len(item[1].message) * pattern.weight
                if pattern.matches(item[1].message):
                    if len(found) == count:
                        return found, found[-1][1].position
                    found.append(item)
                after = item[1].position
            if len(chunk) < SCAN_CHUNK:
                return found, None
        return found, after

    def _group_id(self, name: str) -> int:
        group_id = self.store.group_id(name)
        if group_id is None:
            raise NotFound(GROUP_NOT_FOUND)
        return group_id


def _check_tag_count(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise AwsError(f"A log group can have at most {MAX_TAGS} tags.", "TooManyTagsException")


def _time_key(after: Any) -> tuple[int, str] | None:
    if after is None:
        return None
    if not (isinstance(after, list) and len(after) == 2 and isinstance(after[0], int)):
        raise InvalidParameter("The specified nextToken is invalid.")
    return int(after[0]), str(after[1])


def _choose_streams(
    names: dict[int, str],
    wanted: Sequence[str] | None,
    prefix: str | None,
) -> list[int] | None:
    """The stream ids to search, or None for all of them."""
    if wanted:
        chosen = set(wanted)
        return [i for i, n in names.items() if n in chosen]
    if prefix:
        return [i for i, n in names.items() if n.startswith(prefix)]
    return None
