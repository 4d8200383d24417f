"""Our own read endpoints for people's tools (the CLI): rules and schedules with next fire times, recent tasks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge import overview
from cronbridge.api import own
from cronbridge.api.context import scope_of_request
from cronbridge.api.services.ecs import task_to_wire
from cronbridge.store.views import TaskFilter, Views


def _bad(message: str) -> Response:
    return JSONResponse({"__type": "ValidationException", "message": message}, 400)


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = int(request.query_params.get(name, str(default)))
    return max(low, min(value, high))


@own.signed("ListRules")
async def rules(request: Request) -> Response:
    """GET /_cronbridge/rules?prefix=&after=&limit=&count=: rules by name with next fire times and last outcome."""
    system = request.app.state.system
    try:
        limit, count = _int(request, "limit", 100, 1, 1000), _int(request, "count", 10, 0, 100)
    except ValueError:
        return _bad("limit and count must be numbers")
    query = request.query_params
    page, following = overview.rules_page(
        system, scope_of_request(system, request), query.get("prefix", ""), query.get("after", ""), limit, count
    )
    return JSONResponse({"rules": [s.to_json() for s in page], "nextAfter": following})


@own.signed("ListSchedules")
async def schedules(request: Request) -> Response:
    """GET /_cronbridge/schedules: EventBridge Scheduler schedules with next fire times (empty when not served)."""
    system = request.app.state.system
    try:
        limit, count = _int(request, "limit", 100, 1, 1000), _int(request, "count", 10, 0, 100)
    except ValueError:
        return _bad("limit and count must be numbers")
    scope = scope_of_request(system, request)
    page, following = overview.schedules_page(system, scope, request.query_params.get("after", ""), limit, count)
    return JSONResponse({"schedules": [s.to_json() for s in page], "nextAfter": following, "served": True})


@own.signed("ListTasks")
async def tasks(request: Request) -> Response:
    """GET /_cronbridge/tasks?limit=: the tasks of every cluster of the request's Region, newest first."""
    system = request.app.state.system
    try:
        limit = _int(request, "limit", 50, 1, 1000)
    except ValueError:
        return _bad("limit must be a number")
    now = system.clock.now()
    found = Views(system.db).tasks(limit=limit, where=TaskFilter(scope=scope_of_request(system, request)))
    return JSONResponse({"tasks": [overview.task_to_json(t, now) for t in found]})


@own.signed("GetTask", own.task)
async def task(request: Request) -> Response:
    """GET /_cronbridge/tasks/{cluster}/{id}: one task as DescribeTasks shows it (times in ISO 8601), for as long as it
    is kept (--task-retention), where the ECS API shows a stopped task for an hour."""
    system = request.app.state.system
    scope = scope_of_request(system, request)
    found = overview.find_task(system, scope, request.path_params["cluster"], request.path_params["id"])
    if found is None:
        return JSONResponse({"__type": "ResourceNotFoundException", "message": "No such task is recorded."}, 404)
    wire = task_to_wire(found)
    for key, value in list(wire.items()):
        if key.endswith("At") and isinstance(value, int | float):
            wire[key] = overview.iso(value)
    return JSONResponse({"task": wire})


def routes() -> list[Route]:
    return [
        Route("/_cronbridge/rules", rules, methods=["GET"]),
        Route("/_cronbridge/schedules", schedules, methods=["GET"]),
        Route("/_cronbridge/tasks", tasks, methods=["GET"]),
        Route("/_cronbridge/tasks/{cluster}/{id}", task, methods=["GET"]),
    ]
