"""EventBridge Scheduler schedules in the console (when the server runs them): one schedule, enable/disable, run now."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cronbridge import overview
from cronbridge.errors import AwsError
from cronbridge.web import history
from cronbridge.web.auth import form, refusal, signed_in
from cronbridge.web.region import here
from cronbridge.web.render import page

if TYPE_CHECKING:
    from cronbridge.system import System


def _system(request: Request) -> System:
    signed_in(request)
    system: System = request.app.state.system
    return system


def _found(request: Request) -> tuple[System, Any, Response | None]:
    system = _system(request)
    group, name = request.path_params["group"], request.path_params["name"]
    schedule = overview.find_schedule(system, here(request), group, name)
    if schedule is None:
        return system, None, page(request, "not_found.html", {"what": f"schedule {group}/{name}"}, status=404)
    return system, schedule, None


def _address(schedule: Any) -> str:
    return f"/console/schedules/{quote(schedule.group_name)}/{quote(schedule.name)}"


async def schedule(request: Request) -> Response:
    system, found, missing = _found(request)
    if missing is not None:
        return missing
    target = found.target
    params = target.ecs_parameters
    definition, problem = None, None
    if params is not None:
        try:
            definition = system.ecs.task_definition(here(request), params.task_definition_arn)
        except AwsError as err:
            problem = err.message
    context = {
        "schedule": found,
        "summary": overview.summarize_schedule(system, found, 10),
        "definition": definition,
        "problem": problem,
        "input_pretty": overview.pretty_json(target.input),
        "address": _address(found),
        "flash": request.session.pop("flash", None),
        **history.context(system, request, found.arn),
    }
    return page(request, "schedule.html", context)


async def set_state(request: Request) -> Response:
    system, found, missing = _found(request)
    await form(request)
    if missing is not None:
        return missing
    if request.path_params["action"] not in ("enable", "disable"):
        return page(request, "not_found.html", {"what": "such action"}, status=404)
    state = "ENABLED" if request.path_params["action"] == "enable" else "DISABLED"
    denied = refusal(request, "scheduler:UpdateSchedule", [found.arn])
    if denied:
        request.session["flash"] = denied
        return RedirectResponse(_address(found), 303)
    try:
        changed = dataclasses.replace(found, state=state, client_token=None)
        system.schedules.update(here(request), changed)
        request.session["flash"] = f"{found.key} is now {state}."
    except AwsError as err:
        request.session["flash"] = f"Could not change {found.key}: {err.code}: {err.message}"
    return RedirectResponse(_address(found), 303)


async def run_now(request: Request) -> Response:
    system, found, missing = _found(request)
    await form(request)
    if missing is not None:
        return missing
    params = found.target.ecs_parameters
    denied = refusal(request, "ecs:RunTask", [params.task_definition_arn]) if params else None
    if denied:
        request.session["flash"] = denied
        return RedirectResponse(_address(found), 303)
    try:
        done = system.scheduler.run_plan_now(overview.schedule_plan(system, found))  # type: ignore[attr-defined]
    except AwsError as err:
        request.session["flash"] = f"Run now failed: {err.code}: {err.message}"
        return RedirectResponse(_address(found), 303)
    started = sum(len(i.task_arns) for i in done)
    failed = sum(1 for i in done if i.state == "FAILED")
    request.session["flash"] = f"Ran {found.key} now: {started} task(s) started" + (
        f", {failed} target(s) failed." if failed else "."
    )
    return RedirectResponse(_address(found), 303)


def routes() -> list[Route]:
    return [
        Route("/schedules/{group}/{name}", schedule),
        Route("/schedules/{group}/{name}/run-now", run_now, methods=["POST"]),
        Route("/schedules/{group}/{name}/{action:str}", set_state, methods=["POST"]),
    ]
