"""JSON the console's scripts poll for live updates: a task's status, a stream's new events."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge import overview
from cronbridge.errors import AwsError
from cronbridge.model.logs import Position
from cronbridge.web.auth import PageDenied, SignInRequired, signed_in
from cronbridge.web.region import here
from cronbridge.web.render import utc_ms
from cronbridge.web.resources import parse_instant

BATCH = 500


def _guard(request: Request) -> Response | None:
    try:
        signed_in(request)
    except SignInRequired:
        return JSONResponse({"message": "sign in first"}, 401)
    except PageDenied as denied:
        return JSONResponse({"message": denied.message}, 403)
    return None


async def task_status(request: Request) -> Response:
    if (refused := _guard(request)) is not None:
        return refused
    system = request.app.state.system
    found = overview.find_task(system, here(request), request.path_params["cluster"], request.path_params["id"])
    if found is None:
        return JSONResponse({"message": "no such task"}, 404)
    return JSONResponse(overview.task_to_json(found, system.clock.now()))


async def stream_events(request: Request) -> Response:
    """New events of a stream after a position (live tail), optionally matching a filter pattern."""
    if (refused := _guard(request)) is not None:
        return refused
    system = request.app.state.system
    params = request.query_params
    try:
        after = Position.from_number(int(params.get("after", "0")))
        page = system.logs.at(here(request)).filter_events(
            params.get("group", ""),
            stream_names=[params.get("stream", "")],
            after=after,
            pattern=params.get("filter") or None,
            end=parse_instant(params.get("end")),
            limit=BATCH,
        )
    except ValueError:
        return JSONResponse({"message": "after must be a number"}, 400)
    except AwsError as err:
        return JSONResponse({"message": f"{err.code}: {err.message}"}, 400)
    events = [{"time": utc_ms(e.timestamp), "message": e.message} for e in page.events]
    last = page.events[-1].position.number() if page.events else after.number()
    return JSONResponse({"events": events, "after": str(last)})


def routes() -> list[Route]:
    return [
        Route("/api/tasks/{cluster}/{id}", task_status),
        Route("/api/logs", stream_events),
    ]
