"""Our own HTTP endpoints beside the AWS ones: invocation history, run-now, and a rule's next fire times."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge import overview
from cronbridge.api import own
from cronbridge.api.context import scope_of_request
from cronbridge.ecs.outcome import TaskOutcome, combine, run_result
from cronbridge.errors import AwsError
from cronbridge.events.service import DEFAULT as DEFAULT_BUS
from cronbridge.schedule import parse
from cronbridge.scheduler.engine import next_fire
from cronbridge.schedules.service import DEFAULT_GROUP
from cronbridge.schedules.source import ScheduleSource
from cronbridge.store.events import Delivery
from cronbridge.store.invocations import Invocation
from cronbridge.store.task_events import TaskEvent


def _iso(instant: float | None) -> str | None:
    if instant is None:
        return None
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def invocations_to_json(system: Any, found: list[Invocation], notes: dict[int, str] | None = None
                        ) -> list[dict[str, Any]]:
    """Invocations with what became of their tasks (one lookup for the whole page)."""
    tasks = overview.invocation_tasks(system, found)
    return [invocation_to_json(i, (notes or {}).get(i.id), tasks[i.id]) for i in found]


def invocation_to_json(inv: Invocation, note: str | None = None, tasks: TaskOutcome | None = None) -> dict[str, Any]:
    lateness = None if inv.started_at is None else round(inv.started_at - inv.scheduled_at, 3)
    return {
        "id": inv.id, "rule": inv.rule_name, "ruleArn": inv.rule_arn, "target": inv.target_id,
        "scheduledTime": _iso(inv.scheduled_at), "actualTime": _iso(inv.started_at),
        "finishedTime": _iso(inv.finished_at), "latenessSeconds": lateness, "attempts": inv.attempts,
        "outcome": inv.state, "taskArns": inv.task_arns, "delivered": inv.delivered, "errorCode": inv.error_code,
        "errorMessage": inv.error_message, "manual": inv.manual,
        "kind": "schedule" if ":scheduler:" in inv.rule_arn else "rule", "note": note,
        "trigger": "manual" if inv.manual else "schedule",
        "firedTime": _iso(inv.fired_at), "nextAttemptTime": _iso(inv.next_attempt_at),
        "exhaustedRetryCondition": inv.exhausted, "deadLetter": inv.dead_letter,
        "deadLetterDetail": inv.dead_letter_detail, "coversUntil": _iso(inv.covers_until), "slotCount": inv.slot_count,
        "taskOutcome": None if tasks is None else tasks.to_json(),
        "result": run_result(inv.state, tasks),
    }


def deliveries_to_json(system: Any, found: list[Delivery]) -> list[dict[str, Any]]:
    """Deliveries with what became of the tasks an ECS target started (one lookup for the whole page)."""
    outcomes = overview.task_outcomes(system, [arn for d in found for arn in d.task_arns])
    return [delivery_to_json(d, combine([outcomes[arn] for arn in d.task_arns])) for d in found]


def delivery_to_json(d: Delivery, tasks: TaskOutcome | None = None) -> dict[str, Any]:
    """An event-driven invocation (a pattern rule's delivery of an event it matched) in the invocation list's shape:
    no slot (`scheduledTime` null), `deliveryId` instead of `id`, the event it delivered."""
    try:
        event = json.loads(d.event)
    except ValueError:
        event = {}
    return {
        "id": None, "deliveryId": d.id, "rule": d.rule_name, "ruleArn": d.rule_arn, "bus": d.bus,
        "target": d.target_id, "targetArn": d.target_arn, "scheduledTime": None, "actualTime": _iso(d.at),
        "finishedTime": _iso(d.finished_at), "latenessSeconds": None, "attempts": d.attempts, "outcome": d.state,
        "taskArns": list(d.task_arns), "delivered": d.delivered, "errorCode": d.error_code,
        "errorMessage": d.error_message, "manual": False, "kind": "rule", "note": None, "trigger": "event",
        "eventId": d.event_id, "eventSource": event.get("source"), "eventDetailType": event.get("detail-type"),
        "firedTime": _iso(d.at), "nextAttemptTime": _iso(d.next_attempt_at), "exhaustedRetryCondition": None,
        "deadLetter": d.dead_letter, "deadLetterDetail": None, "coversUntil": None, "slotCount": 1,
        "taskOutcome": None if tasks is None else tasks.to_json(), "result": run_result(d.state, tasks),
    }


def _error(err: AwsError) -> Response:
    status = 404 if err.code == "ResourceNotFoundException" else err.status
    return JSONResponse({"__type": err.code, "message": err.message}, status)


@own.signed("GetInvocations", own.invocations_of)
async def invocations(request: Request) -> Response:
    """GET /_cronbridge/invocations[?rule=NAME[&bus=BUS] | ?schedule=NAME[&group=G]][&limit=N]: newest first, the
    scheduled (and run-now) invocations of rules and schedules and the event-driven deliveries of pattern rules."""
    system = request.app.state.system
    scope = scope_of_request(system, request)
    rule, schedule = request.query_params.get("rule"), request.query_params.get("schedule")
    bus = request.query_params.get("bus") or DEFAULT_BUS
    arn = None
    if rule:  # a rule's ARN names its bus unless it is the default one
        arn = scope.arn("events", f"rule/{rule}" if bus == DEFAULT_BUS else f"rule/{bus}/{rule}")
    if schedule:
        arn = scope.arn("scheduler", f"schedule/{request.query_params.get('group') or DEFAULT_GROUP}/{schedule}")
    try:
        limit = max(1, min(int(request.query_params.get("limit", "100")), 1000))
    except ValueError:
        return JSONResponse({"__type": "ValidationException", "message": "limit must be a number"}, 400)
    found = system.scheduler.invocations(arn, limit, scope) if schedule or bus == DEFAULT_BUS else []
    notes = system.scheduler.log.notes([i.id for i in found])
    shown = invocations_to_json(system, found, notes)
    rows = [(i.fired_at or i.scheduled_at, one) for i, one in zip(found, shown, strict=True)]
    if not schedule:
        deliveries = system.router.log.recent(arn, limit, scope)
        rows += [(d.at, one) for d, one in zip(deliveries, deliveries_to_json(system, deliveries), strict=True)]
    rows.sort(key=lambda row: -row[0])
    return JSONResponse({"invocations": [one for _, one in rows[:limit]]})


@own.signed("RunNow", own.rule)
async def run_now(request: Request) -> Response:
    system = request.app.state.system
    try:
        rule_arn = scope_of_request(system, request).arn("events", f"rule/{request.path_params['name']}")
        done = system.scheduler.run_now(rule_arn)
    except AwsError as err:
        return _error(err)
    return JSONResponse({
        "invocations": invocations_to_json(system, done),
        "taskArns": [arn for i in done for arn in i.task_arns],
    })


@own.signed("GetNextFireTimes", own.rule)
async def next_times(request: Request) -> Response:
    system = request.app.state.system
    try:
        rule = system.events.rule(scope_of_request(system, request), request.path_params["name"])
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
    scope = scope_of_request(system, request)
    schedule = system.schedules.get(scope, request.query_params.get("group"), request.path_params["name"])
    return ScheduleSource(system.schedules).plan_of(schedule)


@own.signed("RunNow", own.schedule)
async def schedule_run_now(request: Request) -> Response:
    system = request.app.state.system
    try:
        done = system.scheduler.run_plan_now(_schedule_plan(request))
    except AwsError as err:
        return _error(err)
    return JSONResponse({
        "invocations": invocations_to_json(system, done),
        "taskArns": [arn for i in done for arn in i.task_arns],
    })


@own.signed("GetNextFireTimes", own.schedule)
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
_EVENT_TIMES = (
    "createdAt",
    "pullStartedAt",
    "pullStoppedAt",
    "startedAt",
    "stoppingAt",
    "executionStoppedAt",
    "stoppedAt",
    "connectivityAt",
)


def task_event_to_json(event: TaskEvent) -> dict[str, Any]:
    """An "ECS Task State Change" event as EventBridge delivers it: detail is the task, times in ISO 8601."""
    from cronbridge.api.services.ecs import task_to_wire

    detail = task_to_wire(event.task)
    for key in _EVENT_TIMES:
        if isinstance(detail.get(key), int | float):
            detail[key] = _iso(detail[key])
    detail["updatedAt"] = _iso(event.at)
    parts = event.task.task_arn.split(":")
    return {
        "version": "0",
        "id": str(uuid.UUID(int=event.id)),
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": parts[4],
        "time": _iso(event.at),
        "region": parts[3],
        "resources": [event.task.task_arn],
        "detail": detail,
    }


@own.signed("GetTaskEvents")
async def task_events(request: Request) -> Response:
    """GET /_cronbridge/events?source=aws.ecs[&task=ARN][&after=ID][&limit=N]: kept task state changes (of the
    request's Region)."""
    system = request.app.state.system
    params = request.query_params
    source = params.get("source", "aws.ecs")
    try:
        after = int(params.get("after", "0"))
        limit = max(1, min(int(params.get("limit", "100")), 1000))
    except ValueError:
        return JSONResponse({"__type": "ValidationException", "message": "after and limit must be numbers"}, 400)
    if source != "aws.ecs":
        return JSONResponse({"events": []})
    found = system.runner.task_events.list(params.get("task"), after, limit, scope_of_request(system, request))
    return JSONResponse(
        {"events": [task_event_to_json(e) for e in found], "next": found[-1].id if len(found) == limit else None}
    )


def routes() -> list[Route]:
    return [
        Route("/_cronbridge/events", task_events, methods=["GET"]),
        Route("/_cronbridge/invocations", invocations, methods=["GET"]),
        Route("/_cronbridge/rules/{name}/run-now", run_now, methods=["POST"]),
        Route("/_cronbridge/rules/{name}/next", next_times, methods=["GET"]),
        Route("/_cronbridge/schedules/{name}/run-now", schedule_run_now, methods=["POST"]),
        Route("/_cronbridge/schedules/{name}/next", schedule_next, methods=["GET"]),
    ]
