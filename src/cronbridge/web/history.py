"""A rule's or schedule's invocation history page section: one page of invocations, task links, the chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from cronbridge import overview
from cronbridge.ecs.outcome import combine
from cronbridge.events.service import DEFAULT
from cronbridge.model.events import Rule
from cronbridge.store.invocations import Invocation
from cronbridge.store.views import Views, parse_cursor
from cronbridge.web import chart

if TYPE_CHECKING:
    from cronbridge.system import System

PAGE = 50
RANGES = {"1d": (86400, 3600), "7d": (7 * 86400, 6 * 3600), "30d": (30 * 86400, 86400)}


def context(system: System, request: Request, log_arn: str) -> dict[str, Any]:
    """History (newest first, `?before=ID` for older), links to tasks still known, and the chart (`?range=`)."""
    views = Views(system.db)
    before = _int(request.query_params.get("before"))
    found = views.invocations(log_arn, before, PAGE + 1)
    shown = request.query_params.get("range", "1d")
    span, width = RANGES.get(shown, RANGES["1d"])
    since = (system.clock.now() - span) // width * width + width  # whole buckets, the last one holding now
    return {
        "history": found[:PAGE],
        "older": found[PAGE - 1].id if len(found) > PAGE else None,
        "tasks": task_links(system, found[:PAGE]),
        "results": overview.invocation_tasks(system, found[:PAGE]),
        "chart": chart.svg(views.buckets(log_arn, since, width), since, since + span, width),
        "range": shown if shown in RANGES else "1d",
    }


def rule_context(system: System, request: Request, rule: Rule) -> dict[str, Any]:
    """A rule's history on any bus: its scheduled and run-now invocations (default bus) merged with the deliveries
    of the events it matched, newest first (`?before=CURSOR` for older); the chart counts both."""
    views = Views(system.db)
    scheduled = rule.event_bus_name == DEFAULT
    before = parse_cursor(request.query_params.get("before"))
    found = views.rule_history(rule.arn, scheduled, before, PAGE + 1)
    shown = request.query_params.get("range", "1d")
    span, width = RANGES.get(shown, RANGES["1d"])
    since = (system.clock.now() - span) // width * width + width
    page = found[:PAGE]
    arns = [arn for entry in page for arn in entry.task_arns]
    buckets = views.rule_buckets(rule.arn, scheduled, since, width)
    outcomes = overview.task_outcomes(system, arns)
    return {
        "entries": page,
        "older": page[-1].cursor if len(found) > PAGE else None,
        "tasks": {t.task_arn: overview.task_url_parts(t) for t in system.ecs.tasks.get_many(arns)},
        "results": {e.cursor: combine([outcomes[arn] for arn in e.task_arns]) for e in page},
        "chart": chart.svg(buckets, since, since + span, width),
        "range": shown if shown in RANGES else "1d",
    }


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def task_links(system: System, invocations: list[Invocation]) -> dict[str, tuple[str, str]]:
    """Task ARN -> (cluster, id) for linking, only for tasks that still exist."""
    arns = [arn for inv in invocations for arn in inv.task_arns]
    return {t.task_arn: overview.task_url_parts(t) for t in system.ecs.tasks.get_many(arns)}
