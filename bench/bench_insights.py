"""Logs Insights benchmark: `stats count() by bin(5m)` over a million stored events, against FilterLogEvents of them."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import ServerProcess, cronbridge_server, render_table

GROUP = "/bench/insights"
BATCH = 10_000  # PutLogEvents' most events per call


@dataclass(frozen=True)
class Sizes:
    events: int
    spacing_ms: int  # between two events: 1,000,000 events over about 2.8 hours


FULL = Sizes(events=1_000_000, spacing_ms=10)
QUICK = Sizes(events=50_000, spacing_ms=200)
QUERIES = (
    "stats count() by bin(5m)",
    "filter @message like /ERROR/ | stats count() by bin(5m)",
    "fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc | limit 20",
)


def message(i: int) -> str:
    if i % 50 == 0:
        return f"ERROR job {i} failed: disk full on /data"
    return f"INFO job {i} processed 128 records in 42 ms"


def seed(server: ServerProcess, sizes: Sizes) -> tuple[int, int]:
    """Store the events through PutLogEvents (ending about now: CloudWatch refuses events older than 14 days);
    the time range they span, in milliseconds."""
    span_ms = sizes.events * sizes.spacing_ms
    start_ms = (int(time.time() * 1000) - span_ms - 60_000) // 60_000 * 60_000
    logs = server.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="batch")
    for first in range(0, sizes.events, BATCH):
        events = [
            {"timestamp": start_ms + i * sizes.spacing_ms, "message": message(i)}
            for i in range(first, min(first + BATCH, sizes.events))
        ]
        answer = logs.put_log_events(logGroupName=GROUP, logStreamName="batch", logEvents=events)
        if answer.get("rejectedLogEventsInfo"):
            raise RuntimeError(f"events refused: {answer['rejectedLogEventsInfo']}")
    return start_ms, start_ms + span_ms


def run_query(server: ServerProcess, text: str, span: tuple[int, int]) -> tuple[float, dict[str, Any]]:
    """StartQuery, then GetQueryResults until Complete: the seconds it took and the last answer."""
    logs = server.client("logs")
    began = time.perf_counter()
    query_id = logs.start_query(
        logGroupName=GROUP, startTime=span[0] // 1000, endTime=span[1] // 1000 + 1, queryString=text
    )["queryId"]
    while True:
        answer = logs.get_query_results(queryId=query_id)
        if answer["status"] in ("Complete", "Failed", "Cancelled", "Timeout"):
            return time.perf_counter() - began, answer
        time.sleep(0.02)


def filter_all(server: ServerProcess, span: tuple[int, int], pattern: str = "") -> tuple[float, int]:
    """FilterLogEvents over the same range, every page: the seconds it took and the events returned."""
    logs = server.client("logs")
    began, count, token = time.perf_counter(), 0, None
    while True:
        kwargs: dict[str, Any] = {"logGroupName": GROUP, "startTime": span[0], "endTime": span[1] + 1, "limit": 10_000}
        if pattern:
            kwargs["filterPattern"] = pattern
        if token:
            kwargs["nextToken"] = token
        page = logs.filter_log_events(**kwargs)
        count += len(page["events"])
        token = page.get("nextToken")
        if not token:
            return time.perf_counter() - began, count


def run(quick: bool = False) -> None:
    sizes = QUICK if quick else FULL
    print(f"sizes: {sizes}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cronbridge-bench-") as tmp:
        server = cronbridge_server(Path(tmp) / "cb", launcher="noop").start()
        try:
            began = time.perf_counter()
            span = seed(server, sizes)
            print(f"stored {sizes.events:,} events in {time.perf_counter() - began:.1f} s", flush=True)
            rows = []
            for text in QUERIES:
                seconds, answer = run_query(server, text, span)
                stats = answer.get("statistics", {})
                rows.append([text, f"{seconds:.2f}", f"{stats.get('recordsScanned', 0):,.0f}",
                             f"{stats.get('recordsMatched', 0):,.0f}", str(len(answer.get("results", [])))])
            every, count = filter_all(server, span)
            errors, error_count = filter_all(server, span, "ERROR")
            rows.append([f"FilterLogEvents, all pages ({count:,} events)", f"{every:.2f}", "", "", ""])
            rows.append([f"FilterLogEvents ERROR, all pages ({error_count:,} events)", f"{errors:.2f}", "", "", ""])
            headers = ["query", "seconds", "recordsScanned", "recordsMatched", "rows"]
            print(f"\n## Logs Insights over {sizes.events:,} events\n" + render_table(headers, rows), flush=True)
            print(f"\nInsights stats count() by bin(5m) vs reading them with FilterLogEvents: "
                  f"{every / float(rows[0][1]):.1f}x faster", flush=True)
        finally:
            server.stop()
