"""CloudWatch Logs Insights (PURE): the query language parsed with lark and run over log events."""

from __future__ import annotations

from collections.abc import Iterable

from cronbridge.logs.insights.evaluate import DEFAULT_LIMIT, MAX_LIMIT, QueryResult, run
from cronbridge.logs.insights.records import LogRecord
from cronbridge.logs.insights.syntax import MalformedQuery, Query, parse_query

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "LogRecord", "MalformedQuery", "Query", "QueryResult", "parse_query", "query"]


def query(text: str, events: Iterable[LogRecord]) -> QueryResult:
    """Parse and run a query in one go (MalformedQuery when it does not parse)."""
    return run(parse_query(text), events)
