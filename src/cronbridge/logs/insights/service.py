"""StartQuery, GetQueryResults, StopQuery, DescribeQueries: queries stored, run on a small pool, results kept."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cronbridge.clock import Clock
from cronbridge.errors import InvalidParameter, NotFound
from cronbridge.logs.insights import DEFAULT_LIMIT, MAX_LIMIT, LogRecord
from cronbridge.logs.insights.evaluate import run
from cronbridge.logs.insights.syntax import parse_query
from cronbridge.scope import Scope
from cronbridge.store.database import Database
from cronbridge.store.insights import KEEP_SECONDS, InsightsQueries, StoredQuery
from cronbridge.store.logs import LogStore, scan_events

log = logging.getLogger("cronbridge.insights")
MAX_GROUPS = 50
CHECK_EVERY = 10_000  # events between two looks at whether the query was stopped


class _Stopped(Exception):
    pass


@dataclass(frozen=True)
class Answer:
    status: str
    results: list[list[dict[str, str]]]
    statistics: dict[str, float]


class InsightsService:
    """Logs Insights over the stored log events; a query runs in the server that started it, over the log groups of
    its account and Region."""

    def __init__(self, db: Database, clock: Clock, workers: int = 2) -> None:
        self.db = db
        self.clock = clock
        self.queries = InsightsQueries(db)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="insights")
        self._stopped: set[str] = set()
        self._lock = threading.Lock()

    def start(
        self, scope: Scope, groups: Sequence[str], start_s: int, end_s: int, text: str, limit: int | None
    ) -> str:
        query = parse_query(text)  # MalformedQueryException before anything is stored
        if not groups:
            raise InvalidParameter("Either logGroupName, logGroupNames or logGroupIdentifiers must be provided.")
        if len(groups) > MAX_GROUPS:
            raise InvalidParameter(f"A query can search at most {MAX_GROUPS} log groups.")
        if end_s < start_s:
            raise InvalidParameter("End time should not be before start time")
        if limit is not None and not 1 <= limit <= MAX_LIMIT:
            raise InvalidParameter(f"limit must be between 1 and {MAX_LIMIT}")
        logs = LogStore(self.db, scope)
        for group in groups:
            if logs.group_id(group) is None:
                raise NotFound(f"Log group '{group}' does not exist for account ID '{scope.account}'")
        self.expire()  # results older than a week go (one indexed DELETE)
        query_id = str(uuid.uuid4())
        stored = StoredQuery(
            query_id,
            self.clock.now(),
            text,
            tuple(groups),
            start_s * 1000,
            end_s * 1000 + 999,
            limit,
            "Scheduled",
            None,
            None,
            None,
            scope,
        )
        self.queries.add(stored)
        self.pool.submit(self._run, stored, query)
        return query_id

    def _run(self, stored: StoredQuery, query: Any) -> None:
        if not self.queries.set_status(stored.id, "Running", only_if=("Scheduled",)):
            return
        try:
            result = run(query, self._events(stored), default_limit=stored.limit or DEFAULT_LIMIT)
        except _Stopped:
            return
        except Exception as exc:  # recorded as Failed, never a silent loss
            log.exception("query %s failed", stored.id)
            self.queries.finish(stored.id, "Failed", [], {"error": str(exc)}, self.clock.now())
            return
        statistics = {
            "recordsMatched": float(result.records_matched),
            "recordsScanned": float(result.records_scanned),
            "bytesScanned": float(result.bytes_scanned),
        }
        rows = [[[field, value] for field, value in row] for row in result.rows]
        self.queries.finish(stored.id, "Complete", rows, statistics, self.clock.now())

    def _events(self, stored: StoredQuery) -> Iterator[LogRecord]:
        seen = 0
        logs = LogStore(self.db, stored.scope)
        for group in stored.groups:
            group_id = logs.group_id(group)
            if group_id is None:
                continue
            streams = logs.stream_names(group_id)
            account, prefix = stored.scope.account, f"{group_id}:"
            for event_id, stream_id, ts, message, ingestion in scan_events(
                self.db, group_id, stored.start_ms, stored.end_ms
            ):
                seen += 1
                if not seen % CHECK_EVERY and self._was_stopped(stored.scope, stored.id):
                    raise _Stopped()
                yield LogRecord(
                    ts, message, streams.get(stream_id, ""), group, account, ingestion, prefix + str(event_id)
                )

    def _was_stopped(self, scope: Scope, query_id: str) -> bool:
        with self._lock:
            if query_id in self._stopped:
                return True
        found = self.queries.get(scope, query_id)
        return found is None or found.status == "Cancelled"

    def results(self, scope: Scope, query_id: str) -> Answer:
        found = self.queries.get(scope, query_id)
        if found is None:
            raise NotFound("Query does not exist.")
        rows = [[{"field": f, "value": v} for f, v in row] for row in found.results or []]
        stats = found.statistics or {"recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0}
        return Answer(found.status, rows, {k: v for k, v in stats.items() if k != "error"})

    def stop(self, scope: Scope, query_id: str) -> bool:
        found = self.queries.get(scope, query_id)
        if found is None:
            raise NotFound("Query does not exist.")
        with self._lock:
            self._stopped.add(query_id)
        return self.queries.set_status(query_id, "Cancelled", only_if=("Scheduled", "Running"))

    def describe(
        self, scope: Scope, group: str | None, status: str | None, limit: int, before: float | None
    ) -> list[StoredQuery]:
        found = self.queries.recent(scope, status, limit * 4 if group else limit, before)
        if group:
            found = [q for q in found if group in q.groups][:limit]
        return found

    def expire(self) -> None:
        self.queries.expire(self.clock.now() - KEEP_SECONDS)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
