"""The console's pages: schedules, a rule, an invocation, tasks, a task, and the actions (enable, disable, run now)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cronbridge import overview
from cronbridge.errors import AwsError
from cronbridge.store.views import Views
from cronbridge.web import history, resources, schedule_pages
from cronbridge.web.auth import form, refusal, signed_in
from cronbridge.web.render import page

if TYPE_CHECKING:
    from cronbridge.system import System

PAGE = 50


def _system(request: Request) -> System:
    signed_in(request)
    system: System = request.app.state.system
    return system


def not_found(request: Request, what: str) -> Response:
    return page(request, "not_found.html", {"what": what}, status=404)


async def home(request: Request) -> Response:
    return RedirectResponse("/console/schedules", 303)


async def schedules(request: Request) -> Response:
    system = _system(request)
    prefix, after = request.query_params.get("prefix", ""), request.query_params.get("after", "")
    rules, following = overview.rules_page(system, prefix, after, PAGE)
    schedules, more = overview.schedules_page(system, request.query_params.get("safter", ""), PAGE)
    context = {
        "rules": rules,
        "following": following,
        "prefix": prefix,
        "after": after,
        "schedules": schedules,
        "more_schedules": more,
        "scheduler_served": overview.schedules_service(system) is not None,
        "flash": request.session.pop("flash", None),
    }
    return page(request, "schedules.html", context)


async def rule(request: Request) -> Response:
    system = _system(request)
    name = request.path_params["name"]
    try:
        found = system.events.rule(name)
    except AwsError:
        return not_found(request, f"rule {name}")
    context = {
        "rule": found,
        "summary": overview.summarize_rule(system, found, 10),
        "targets": overview.resolve_targets(system, name),
        "flash": request.session.pop("flash", None),
        **history.context(system, request, name),
    }
    return page(request, "rule.html", context)


async def invocation(request: Request) -> Response:
    system = _system(request)
    found = Views(system.db).invocation(int(request.path_params["id"]))
    if found is None:
        return not_found(request, f"invocation {request.path_params['id']}")
    tasks = system.ecs.tasks.get_many(found.task_arns)
    links = {t.task_arn: overview.task_url_parts(t) for t in tasks}
    notes = getattr(system.scheduler.log, "notes", None)  # why a run was skipped or queued, where recorded
    note = notes([found.id]).get(found.id) if callable(notes) else None
    return page(request, "invocation.html", {"inv": found, "links": links, "note": note})


async def set_state(request: Request) -> Response:
    system = _system(request)
    fields = await form(request)
    name, action = request.path_params["name"], request.path_params["action"]
    if action not in ("enable", "disable"):
        return not_found(request, f"action {action}")
    enabled = action == "enable"
    try:
        arn = system.events.rule(name).arn
    except AwsError:
        return not_found(request, f"rule {name}")
    denied = refusal(request, "events:EnableRule" if enabled else "events:DisableRule", [arn])
    if denied:
        request.session["flash"] = denied
        return RedirectResponse(_back(fields, name), 303)
    system.events.set_state(name, enabled)
    request.session["flash"] = f"{name} is now {'ENABLED' if enabled else 'DISABLED'}."
    return RedirectResponse(_back(fields, name), 303)


async def run_now(request: Request) -> Response:
    system = _system(request)
    fields = await form(request)
    name = request.path_params["name"]
    definitions = [t.ecs_parameters.task_definition_arn for t in system.events.targets(name) if t.ecs_parameters]
    denied = refusal(request, "ecs:RunTask", definitions) if definitions else None
    if denied:
        request.session["flash"] = denied
        return RedirectResponse(_back(fields, name), 303)
    try:
        done = system.scheduler.run_now(name)
    except AwsError as err:
        request.session["flash"] = f"Run now failed: {err.code}: {err.message}"
        return RedirectResponse(_back(fields, name), 303)
    failed = [i for i in done if i.state == "FAILED"]
    started = [arn for i in done for arn in i.task_arns]
    message = f"Ran {name} now: {len(started)} task(s) started"
    message += f", {len(failed)} target(s) failed" if failed else ""
    request.session["flash"] = message + "." if done else f"{name} has no targets: nothing ran."
    return RedirectResponse(f"/console/rules/{quote(name)}", 303)


def _back(fields: dict[str, str], name: str) -> str:
    back = fields.get("back", "")
    return back if back.startswith("/console/") else f"/console/rules/{quote(name)}"


async def tasks(request: Request) -> Response:
    system = _system(request)
    cursor = _cursor(request.query_params.get("before"))
    found = Views(system.db).tasks(cursor, PAGE + 1)
    rows = found[:PAGE]
    following = f"{rows[-1].created_at or 0!r}|{rows[-1].task_arn}" if len(found) > PAGE else None
    now = system.clock.now()
    context = {
        "tasks": [(t, overview.task_url_parts(t), overview.duration(t, now)) for t in rows],
        "following": following,
        "first_page": cursor is None,
    }
    return page(request, "tasks.html", context)


def _cursor(value: str | None) -> tuple[float, str] | None:
    if not value or "|" not in value:
        return None
    stamp, _, arn = value.partition("|")
    try:
        return float(stamp), arn
    except ValueError:
        return None


async def task(request: Request) -> Response:
    system = _system(request)
    cluster, task_id = request.path_params["cluster"], request.path_params["id"]
    found = overview.find_task(system, cluster, task_id)
    if found is None:
        return not_found(request, f"task {task_id} in cluster {cluster} (stopped tasks are kept for an hour)")
    context = {
        "task": found,
        "cluster": cluster,
        "lifecycle": overview.lifecycle(found),
        "duration": overview.duration(found, system.clock.now()),
        "logs": overview.task_log_links(system, found),
        "definition": found.task_definition_arn.rsplit("/", 1)[-1],
    }
    return page(request, "task.html", context)


def routes() -> list[Route]:
    return [
        Route("/", home),
        Route("/schedules", schedules),
        Route("/rules/{name}", rule),
        Route("/rules/{name}/run-now", run_now, methods=["POST"]),
        Route("/rules/{name}/{action}", set_state, methods=["POST"]),
        Route("/invocations/{id:int}", invocation),
        Route("/tasks", tasks),
        Route("/tasks/{cluster}/{id}", task),
        *resources.routes(),
        *schedule_pages.routes(),
    ]
