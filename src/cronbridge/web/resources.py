"""The console's resource pages: log groups, streams and the stream viewer; task definitions; clusters; IAM."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cronbridge.codec import camel, encode
from cronbridge.ecs.service import TASKDEF, taskdef_key
from cronbridge.errors import AwsError
from cronbridge.logs.service import LogService
from cronbridge.model.ecs import TaskDefinition
from cronbridge.model.logs import Position, StreamOrder
from cronbridge.store.views import Views
from cronbridge.web import identity_view, taskdef_users, watch_pages
from cronbridge.web.auth import refusal, signed_in
from cronbridge.web.region import here
from cronbridge.web.render import page

if TYPE_CHECKING:
    from cronbridge.system import System

PAGE = 50
EVENTS = 500


def _system(request: Request) -> System:
    signed_in(request)
    system: System = request.app.state.system
    return system


def parse_instant(text: str | None) -> int | None:
    """An ISO 8601 time (UTC unless it says otherwise) as epoch milliseconds; None when empty or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


async def log_groups(request: Request) -> Response:
    system = _system(request)
    prefix, token = request.query_params.get("prefix", ""), request.query_params.get("token")
    try:
        groups, following = system.logs.at(here(request)).describe_groups(prefix=prefix, limit=PAGE, token=token)
    except AwsError as err:
        groups, following = [], None
        request.state.error = err.message
    return page(
        request,
        "log_groups.html",
        {"groups": groups, "following": following, "prefix": prefix, "error": getattr(request.state, "error", None)},
    )


async def log_group(request: Request) -> Response:
    system = _system(request)
    params = request.query_params
    name = params.get("name", "")
    context: dict[str, Any] = {
        "name": name,
        "filter": params.get("filter", ""),
        "start": params.get("start", ""),
        "end": params.get("end", ""),
        "streams": [],
        "matches": None,
        "error": None,
    }
    try:
        logs = system.logs.at(here(request))
        group = logs.get_group(name)
        streams, following = logs.describe_streams(
            name, order_by=StreamOrder.LAST_EVENT_TIME, descending=True, limit=PAGE, token=params.get("token")
        )
        context.update(group=group, streams=streams, following=following)
        if context["filter"] or context["start"] or context["end"]:
            context["matches"] = _search(logs, name, None, params).events
        context.update(await _query_box(request, system, name))
    except AwsError as err:
        if err.code == "ResourceNotFoundException" and "group" not in context:
            return page(request, "not_found.html", {"what": f"log group {name}"}, status=404)
        context["error"] = f"{err.code}: {err.message}"
    return page(request, "log_group.html", context)


async def _query_box(request: Request, system: System, group: str) -> dict[str, Any]:
    """The Logs Insights box; a query runs only when the principal may start one on the group (logs:StartQuery)."""
    params = request.query_params
    scope = here(request)
    if params.get("query"):
        arn = scope.arn("logs", f"log-group:{group}:log-stream:")
        denied = refusal(request, "logs:StartQuery", [arn])
        if denied is not None:
            return {"insights_query": params["query"], "query_result": None,
                    "query_error": f"AccessDeniedException: {denied}"}
    return await watch_pages.query_box(system, scope, group, params, parse_instant)


def _search(logs: LogService, group: str, stream: str | None, params: Any) -> Any:
    return logs.filter_events(
        group,
        stream_names=[stream] if stream else None,
        start=parse_instant(params.get("start")),
        end=parse_instant(params.get("end")),
        pattern=params.get("filter") or None,
        limit=EVENTS,
    )


async def log_stream(request: Request) -> Response:
    system = _system(request)
    params = request.query_params
    group, stream = params.get("group", ""), params.get("stream", "")
    context: dict[str, Any] = {
        "group": group,
        "stream": stream,
        "filter": params.get("filter", ""),
        "start": params.get("start", ""),
        "end": params.get("end", ""),
        "events": [],
        "after": 0,
        "older": None,
        "paging": False,
        "error": None,
    }
    try:
        logs = system.logs.at(here(request))
        logs.get_stream(group, stream)
        context["events"], context["after"], context["older"] = _stream_events(logs, group, stream, params)
        context["paging"] = bool(params.get("before"))
    except AwsError as err:
        if err.code != "ResourceNotFoundException":
            context["error"] = f"{err.code}: {err.message}"
        elif not system.logs.at(here(request)).group_exists(group):
            return page(request, "not_found.html", {"what": f"log group {group}"}, status=404)
        else:
            context["missing"] = True  # a stream the task page links to before (or without) a first line
    return page(request, "log_stream.html", context)


def _stream_events(logs: LogService, group: str, stream: str, params: Any) -> tuple[list[Any], int, int | None]:
    """The newest events (those before `?before=`, or those matching the filter and range), the position live tail
    continues from, and where older events start (None when there are none)."""
    before = params.get("before", "")
    if params.get("filter") or params.get("start") or params.get("end"):
        events = _search(logs, group, stream, params).events
    elif before.isdigit():
        events = logs.get_events(group, stream, before=Position.from_number(int(before)), limit=EVENTS).events
    else:
        events = logs.get_events(group, stream, limit=EVENTS).events
    after = events[-1].position.number() if events else 0
    older = events[0].position.number() if len(events) == EVENTS and not params.get("filter") else None
    return events, after, older


async def task_definitions(request: Request) -> Response:
    system = _system(request)
    after = request.query_params.get("after", "")
    found = system.docs.list(TASKDEF, TaskDefinition, here(request), after=after, limit=PAGE + 1)
    rows = found[:PAGE]
    following = taskdef_key(rows[-1].family, rows[-1].revision) if len(found) > PAGE else None
    return page(request, "task_definitions.html", {"definitions": rows, "following": following})


async def task_definition(request: Request) -> Response:
    system = _system(request)
    family, revision = request.path_params["family"], request.path_params["revision"]
    try:
        found = system.ecs.task_definition(here(request), f"{family}:{revision}")
    except AwsError:
        return page(request, "not_found.html", {"what": f"task definition {family}:{revision}"}, status=404)
    document = encode(found, camel)
    try:
        latest = system.ecs.task_definition(here(request), family).revision
    except AwsError:  # every revision inactive: a run by family fails
        latest = 0
    users = taskdef_users.users_of(system, found)
    return page(
        request,
        "task_definition.html",
        {"definition": found, "document": document, "users": users, "latest": latest},
    )


async def clusters(request: Request) -> Response:
    system = _system(request)
    views = Views(system.db)
    found = [(c, views.running_count(c.cluster_arn)) for c in system.ecs.list_clusters(here(request))[:500]]
    return page(request, "clusters.html", {"clusters": found})


async def iam(request: Request) -> Response:
    system = _system(request)
    return page(request, "iam.html", identity_view.overview(system))


async def iam_role(request: Request) -> Response:
    system = _system(request)
    found = identity_view.role(system, request.path_params["name"])
    if found is None:
        return page(request, "not_found.html", {"what": f"role {request.path_params['name']}"}, status=404)
    return page(request, "iam_role.html", found)


def routes() -> list[Route]:
    return [
        Route("/logs", log_groups),
        Route("/logs/group", log_group),
        Route("/logs/stream", log_stream),
        Route("/taskdefs", task_definitions),
        Route("/taskdefs/{family}/{revision:int}", task_definition),
        Route("/clusters", clusters),
        Route("/iam", iam),
        Route("/iam/roles/{name}", iam_role),
    ]
