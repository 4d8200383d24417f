"""Our own HTTP endpoints beside the AWS ones: invocation history, run-now, and a rule's next fire times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge.errors import AwsError
from cronbridge.schedule import parse
from cronbridge.scheduler.engine import next_fire
from cronbridge.schedules.service import DEFAULT_GROUP
from cronbridge.schedules.source import ScheduleSource
from cronbridge.store.invocations import Invocation


def _iso(instant: float | None) -> str | None:
    if instant is None:
        return None
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def invocation_to_json(inv: Invocation) -> dict[str, Any]:
    lateness = None if inv.started_at is None else round(inv.started_at - inv.scheduled_at, 3)
    return {
        "id": inv.id, "rule": inv.rule_name, "ruleArn": inv.rule_arn, "target": inv.target_id,
        "scheduledTime": _iso(inv.scheduled_at), "actualTime": _iso(inv.started_at),
        "finishedTime": _iso(inv.finished_at), "latenessSeconds": lateness, "attempts": inv.attempts,
        "outcome": inv.state, "taskArns": inv.task_arns, "errorCode": inv.error_code,
        "errorMessage": inv.error_message, "manual": inv.manual,
    }


def _error(err: AwsError) -> Response:
    status = 404 if err.code == "ResourceNotFoundException" else err.status
    return JSONResponse({"__type": err.code, "message": err.message}, status)


async def invocations(request: Request) -> Response:
    system = request.app.state.system
    rule = request.query_params.get("rule")
    schedule = request.query_params.get("schedule")
    if schedule:  # schedules are logged as GROUP/NAME (no rule name has a slash)
        rule = f"{request.query_params.get('group') or DEFAULT_GROUP}/{schedule}"
    try:
        limit = max(1, min(int(request.query_params.get("limit", "100")), 1000))
    except ValueError:
        return JSONResponse({"__type": "ValidationException", "message": "limit must be a number"}, 400)
    found = system.scheduler.invocations(rule, limit)
    return JSONResponse({"invocations": [invocation_to_json(i) for i in found]})


async def run_now(request: Request) -> Response:
    system = request.app.state.system
    try:
        done = system.scheduler.run_now(request.path_params["name"])
    except AwsError as err:
        return _error(err)
    return JSONResponse({
        "invocations": [invocation_to_json(i) for i in done],
        "taskArns": [arn for i in done for arn in i.task_arns],
    })


async def next_times(request: Request) -> Response:
    system = request.app.state.system
    try:
        rule = system.events.rule(request.path_params["name"])
        count = max(1, min(int(request.query_params.get("count", "10")), 100))
    except AwsError as err:
        return _error(err)
    except ValueError:
        return JSONResponse({"__type": "ValidationException", "message": "count must be a number"}, 400)
    times: list[str | None] = []
    cursor = system.clock.now()
    while len(times) < count and rule.schedule_expression:
        following = next_fire(rule, cursor)
        if following is None:
            break
        times.append(_iso(following))
        cursor = following
    description = parse(rule.schedule_expression).describe() if rule.schedule_expression else None
    return JSONResponse({"rule": rule.name, "expression": rule.schedule_expression, "description": description,
                         "timezone": "UTC", "nextFireTimes": times})


def _schedule_plan(request: Request) -> Any:
    system = request.app.state.system
    schedule = system.schedules.get(request.query_params.get("group"), request.path_params["name"])
    return ScheduleSource(system.schedules).plan_of(schedule)


async def schedule_run_now(request: Request) -> Response:
    system = request.app.state.system
    try:
        done = system.scheduler.run_plan_now(_schedule_plan(request))
    except AwsError as err:
        return _error(err)
    return JSONResponse({
        "invocations": [invocation_to_json(i) for i in done],
        "taskArns": [arn for i in done for arn in i.task_arns],
    })


async def schedule_next(request: Request) -> Response:
    """A schedule's next slots in its zone, each with when it launches (inside its flexible window)."""
    system = request.app.state.system
    try:
        plan = _schedule_plan(request)
        count = max(1, min(int(request.query_params.get("count", "10")), 100))
    except AwsError as err:
        return _error(err)
    except ValueError:
        return JSONResponse({"__type": "ValidationException", "message": "count must be a number"}, 400)
    slots: list[dict[str, Any]] = []
    cursor = max(system.clock.now(), plan.not_before)
    while len(slots) < count:
        slot = plan.next_slot(cursor)
        if slot is None:
            break
        slots.append({"scheduledTime": _iso(slot), "launchTime": _iso(plan.launch_at(slot))})
        cursor = slot
    return JSONResponse({"schedule": plan.name, "arn": plan.arn, "expression": plan.expression,
                         "description": parse(plan.expression, allow_at=True).describe(),
                         "timezone": plan.timezone, "next": slots})


def routes() -> list[Route]:
    return [
        Route("/_cronbridge/invocations", invocations, methods=["GET"]),
        Route("/_cronbridge/rules/{name}/run-now", run_now, methods=["POST"]),
        Route("/_cronbridge/rules/{name}/next", next_times, methods=["GET"]),
        Route("/_cronbridge/schedules/{name}/run-now", schedule_run_now, methods=["POST"]),
        Route("/_cronbridge/schedules/{name}/next", schedule_next, methods=["GET"]),
    ]
