"""Console pages for knowing when the batch fails: alarms with their state and history, a pattern rule's matched
events and deliveries (shown on the rule page), and the Logs Insights query box of a log group."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cronbridge.errors import AwsError
from cronbridge.logs.insights import LogRecord, MalformedQuery, QueryResult, parse_query
from cronbridge.logs.insights.evaluate import run
from cronbridge.model.events import Rule
from cronbridge.scope import Scope
from cronbridge.store.logs import LogStore, scan_events
from cronbridge.web.auth import signed_in
from cronbridge.web.region import here
from cronbridge.web.render import page

HISTORY_ROWS = 50
QUERY_WINDOW_S = 3600  # a query with no time range looks at the last hour
DEFAULT_QUERY = "fields @timestamp, @message | sort @timestamp desc | limit 20"


def _system(request: Request) -> Any:
    signed_in(request)
    return request.app.state.system


def not_found(request: Request, what: str) -> Response:
    return page(request, "not_found.html", {"what": what}, status=404)


async def alarms(request: Request) -> Response:
    found = _system(request).alarms.describe(here(request))
    return page(request, "alarms.html", {"alarms": found})


async def alarm(request: Request) -> Response:
    system = _system(request)
    name = request.path_params["name"]
    try:
        found = system.alarms.alarm(here(request), name)
    except AwsError:
        return not_found(request, f"alarm {name}")
    items = system.alarms.history.items(here(request), name, None, 0.0, float("inf"), HISTORY_ROWS, None)
    reason_data = _pretty(found.state_reason_data)
    return page(request, "alarm.html", {"alarm": found, "history": [i for _, i in items], "reason_data": reason_data})


def pattern_context(system: Any, rule: Rule) -> dict[str, Any]:
    """What the rule page shows of a pattern rule: its pattern and the events it matched (their deliveries are in
    the rule's history, with its scheduled invocations)."""
    if not rule.event_pattern:
        return {"pattern_pretty": "", "matches": []}
    return {
        "pattern_pretty": _pretty(rule.event_pattern),
        "matches": system.router.log.matches(rule.arn, HISTORY_ROWS),
    }


def _pretty(text: str | None) -> str:
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


async def query_box(system: Any, scope: Scope, group: str, params: Any, parse_instant: Any) -> dict[str, Any]:
    """The log group page's Logs Insights box: the query run over the group (of the Region shown), in the given range
    or the last hour."""
    text = params.get("query", "")
    if not text:
        return {"insights_query": DEFAULT_QUERY, "query_result": None, "query_error": None}
    end = parse_instant(params.get("qend")) or int(system.clock.now() * 1000)
    start = parse_instant(params.get("qstart")) or end - QUERY_WINDOW_S * 1000
    try:
        result = await run_in_threadpool(_run_query, system, scope, group, text, start, end)
    except MalformedQuery as err:
        return {"insights_query": text, "query_result": None, "query_error": f"{err.code}: {err.message}"}
    columns: list[str] = []
    for row in result.rows:
        columns += [field for field, _ in row if field not in columns and field != "@ptr"]
    rows = [dict(row) for row in result.rows]
    return {
        "insights_query": text,
        "query_result": result,
        "query_columns": columns,
        "query_rows": rows,
        "query_error": None,
    }


def _run_query(system: Any, scope: Scope, group: str, text: str, start: int, end: int) -> QueryResult:
    query = parse_query(text)
    store = LogStore(system.db, scope)
    group_id = store.group_id(group)
    if group_id is None:
        return QueryResult([])
    streams = store.stream_names(group_id)
    account = scope.account
    events = (
        LogRecord(ts, message, streams.get(stream, ""), group, account, ingestion, f"{group_id}:{event_id}")
        for event_id, stream, ts, message, ingestion in scan_events(system.db, group_id, start, end)
    )
    return run(query, events)


def routes() -> list[Route]:
    return [
        Route("/alarms", alarms),
        Route("/alarms/{name}", alarm),
    ]
