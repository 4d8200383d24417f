"""Log events as Logs Insights sees them: system fields (@timestamp, @message...) and JSON fields found in messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

MAX_DISCOVERED = 1000  # Insights discovers at most this many fields of one JSON message


class LogRecord(NamedTuple):
    """One stored event: instants in epoch milliseconds, the group and stream it was written to (a tuple: a million
    of them are made per query)."""

    timestamp: int
    message: str
    log_stream: str
    log_group: str
    account: str = "000000000000"
    ingestion_time: int = 0
    ptr: str = ""


class Row:
    """A record moving through a query: the event's fields, then what `fields`, `parse` and `stats` add."""

    __slots__ = ("event", "extra", "_json")

    def __init__(self, event: LogRecord | None, extra: dict[str, Any] | None = None) -> None:
        self.event = event
        self.extra = extra
        self._json: dict[str, Any] | None = None

    def get(self, name: str) -> Any:
        if self.extra is not None and name in self.extra:
            return self.extra[name]
        event = self.event
        if event is None:
            return None
        system = _SYSTEM.get(name)
        if system is not None:
            return system(event)
        return self.discovered().get(name)

    def set(self, name: str, value: Any) -> None:
        if self.extra is None:
            self.extra = {}
        self.extra[name] = value

    def discovered(self) -> dict[str, Any]:
        """The message's JSON fields, flattened with dots (`detail.containers.0.exitCode`), parsed once."""
        if self._json is None:
            self._json = discover(self.event.message) if self.event is not None else {}
        return self._json


def discover(message: str) -> dict[str, Any]:
    text = message.lstrip()
    if not text.startswith("{"):
        return {}
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    found: dict[str, Any] = {}
    _flatten(document, "", found)
    return found


def _flatten(node: Any, prefix: str, found: dict[str, Any]) -> None:
    if len(found) >= MAX_DISCOVERED:
        return
    if isinstance(node, dict):
        for key, child in node.items():
            _flatten(child, f"{prefix}.{key}" if prefix else str(key), found)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            _flatten(child, f"{prefix}.{index}", found)
    elif prefix:
        found[prefix] = node


_SYSTEM = {
    "@timestamp": lambda e: e.timestamp,
    "@message": lambda e: e.message,
    "@logStream": lambda e: e.log_stream,
    "@log": lambda e: f"{e.account}:{e.log_group}",
    "@ingestionTime": lambda e: e.ingestion_time,
    "@ptr": lambda e: e.ptr,
}
TIME_FIELDS = frozenset({"@timestamp", "@ingestionTime"})


def format_time(millis: int) -> str:
    """Insights' rendering of an instant: `2024-01-02 03:04:05.678`."""
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(millis) % 1000:03d}"


def render(value: Any, is_time: bool) -> str | None:
    """A value as GetQueryResults gives it (always a string); None when the field has no value."""
    if value is None:
        return None
    if is_time and isinstance(value, int | float) and not isinstance(value, bool):
        return format_time(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
