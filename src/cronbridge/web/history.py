"""A rule's or schedule's invocation history page section: one page of invocations, task links, the chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from cronbridge import overview
from cronbridge.store.invocations import Invocation
from cronbridge.store.views import Views
from cronbridge.web import chart

if TYPE_CHECKING:
    from cronbridge.system import System

PAGE = 50
RANGES = {"1d": (86400, 3600), "7d": (7 * 86400, 6 * 3600), "30d": (30 * 86400, 86400)}


def context(system: System, request: Request, log_name: str) -> dict[str, Any]:
    """History (newest first, `?before=ID` for older), links to tasks still known, and the chart (`?range=`)."""
    views = Views(system.db)
    before = _int(request.query_params.get("before"))
    found = views.invocations(log_name, before, PAGE + 1)
    shown = request.query_params.get("range", "1d")
    span, width = RANGES.get(shown, RANGES["1d"])
    since = (system.clock.now() - span) // width * width + width  # whole buckets, the last one holding now
    return {
        "history": found[:PAGE],
        "older": found[PAGE - 1].id if len(found) > PAGE else None,
        "tasks": task_links(system, found[:PAGE]),
        "chart": chart.svg(views.buckets(log_name, since, width), since, since + span, width),
        "range": shown if shown in RANGES else "1d",
    }


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def task_links(system: System, invocations: list[Invocation]) -> dict[str, tuple[str, str]]:
    """Task ARN -> (cluster, id) for linking, only for tasks that still exist."""
    arns = [arn for inv in invocations for arn in inv.task_arns]
    return {t.task_arn: overview.task_url_parts(t) for t in system.ecs.tasks.get_many(arns)}
