"""Our own read endpoints for people's tools (the CLI): rules and schedules with next fire times, recent tasks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge import overview
from cronbridge.store.views import Views


def _bad(message: str) -> Response:
    return JSONResponse({"__type": "ValidationException", "message": message}, 400)


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = int(request.query_params.get(name, str(default)))
    return max(low, min(value, high))


async def rules(request: Request) -> Response:
    """GET /_cronbridge/rules?prefix=&after=&limit=&count=: rules by name with next fire times and last outcome."""
    system = request.app.state.system
    try:
        limit, count = _int(request, "limit", 100, 1, 1000), _int(request, "count", 10, 0, 100)
    except ValueError:
        return _bad("limit and count must be numbers")
    page, following = overview.rules_page(
        system, request.query_params.get("prefix", ""), request.query_params.get("after", ""), limit, count
    )
    return JSONResponse({"rules": [s.to_json() for s in page], "nextAfter": following})


async def schedules(request: Request) -> Response:
    """GET /_cronbridge/schedules: EventBridge Scheduler schedules with next fire times (empty when not served)."""
    system = request.app.state.system
    try:
        limit, count = _int(request, "limit", 100, 1, 1000), _int(request, "count", 10, 0, 100)
    except ValueError:
        return _bad("limit and count must be numbers")
    page, following = overview.schedules_page(system, request.query_params.get("after", ""), limit, count)
    served = overview.schedules_service(system) is not None
    return JSONResponse({"schedules": [s.to_json() for s in page], "nextAfter": following, "served": served})


async def tasks(request: Request) -> Response:
    """GET /_cronbridge/tasks?limit=: every cluster's tasks, newest first."""
    system = request.app.state.system
    try:
        limit = _int(request, "limit", 50, 1, 1000)
    except ValueError:
        return _bad("limit must be a number")
    now = system.clock.now()
    found = Views(system.db).tasks(limit=limit)
    return JSONResponse({"tasks": [overview.task_to_json(t, now) for t in found]})


def routes() -> list[Route]:
    return [
        Route("/_cronbridge/rules", rules, methods=["GET"]),
        Route("/_cronbridge/schedules", schedules, methods=["GET"]),
        Route("/_cronbridge/tasks", tasks, methods=["GET"]),
    ]
