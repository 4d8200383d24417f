"""The console's pages: schedules, a rule, an invocation, tasks, a task, and the actions (enable, disable, run now)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cronbridge import overview
from cronbridge.errors import AwsError
from cronbridge.events.service import DEFAULT as DEFAULT_BUS
from cronbridge.scope import Scope
from cronbridge.store.views import TaskFilter, Views
from cronbridge.web import history, resources, schedule_pages, watch_pages
from cronbridge.web.auth import form, refusal, signed_in
from cronbridge.web.region import here
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
    rules, following = overview.rules_page(system, here(request), prefix, after, PAGE)
    schedules, more = overview.schedules_page(system, here(request), request.query_params.get("safter", ""), PAGE)
    context = {
        "rules": rules,
        "following": following,
        "prefix": prefix,
        "after": after,
        "schedules": schedules,
        "more_schedules": more,
        "scheduler_served": True,
        "flash": request.session.pop("flash", None),
    }
    return page(request, "schedules.html", context)


def _bus(request: Request) -> str:
    """The rule's event bus: `?bus=NAME` (rules on other buses than the default one), else the default bus."""
    return request.query_params.get("bus") or DEFAULT_BUS


async def rule(request: Request) -> Response:
    """A rule on any bus (`/console/rules/NAME?bus=BUS`): schedule or pattern, targets, history."""
    system = _system(request)
    name, bus = request.path_params["name"], _bus(request)
    try:
        found = system.events.rule(here(request), name, bus)
    except AwsError:
        return not_found(request, f"rule {name}" + ("" if bus == DEFAULT_BUS else f" on event bus {bus}"))
    context = {
        "rule": found,
        "bus_query": "" if bus == DEFAULT_BUS else f"?bus={quote(bus)}",
        "summary": overview.summarize_rule(system, found, 10),
        "targets": overview.resolve_targets(system, here(request), name, bus),
        "flash": request.session.pop("flash", None),
        **watch_pages.pattern_context(system, found),
        **history.rule_context(system, request, found),
    }
    return page(request, "rule.html", context)


async def buses(request: Request) -> Response:
    """Every event bus with its rules (each linked to its rule page)."""
    system = _system(request)
    scope = here(request)
    shown = [(b, system.events.list_rules(scope, bus=b.name, limit=PAGE)) for b in system.events.list_buses(scope)]
    return page(request, "buses.html", {"buses": shown})


async def delivery(request: Request) -> Response:
    """One event-driven invocation: the event a rule matched, what its target received, the outcome."""
    system = _system(request)
    found = system.router.log.delivery(int(request.path_params["id"]))
    if found is None or not here(request).owns(found.rule_arn):  # another Region's rule: not found here
        return not_found(request, f"delivery {request.path_params['id']}")
    tasks = system.ecs.tasks.get_many(list(found.task_arns))
    links = {t.task_arn: overview.task_url_parts(t) for t in tasks}
    bus_query = "" if found.bus == DEFAULT_BUS else f"?bus={quote(found.bus)}"
    context = {
        "d": found,
        "links": links,
        "bus_query": bus_query,
        "event_pretty": overview.pretty_json(found.event),
        "payload_pretty": overview.pretty_json(found.payload),
    }
    return page(request, "delivery.html", context)


async def invocation(request: Request) -> Response:
    system = _system(request)
    found = Views(system.db).invocation(int(request.path_params["id"]))
    if found is None or not here(request).owns(found.rule_arn):  # another Region's rule or schedule: not found here
        return not_found(request, f"invocation {request.path_params['id']}")
    tasks = system.ecs.tasks.get_many(found.task_arns)
    links = {t.task_arn: overview.task_url_parts(t) for t in tasks}
    note = system.scheduler.log.notes([found.id]).get(found.id)  # why a run was skipped or queued
    outcomes = overview.task_outcomes(system, found.task_arns)
    context = {"inv": found, "links": links, "note": note, "outcomes": outcomes,
               "tasks_outcome": overview.combine(list(outcomes.values()))}
    return page(request, "invocation.html", context)


async def set_state(request: Request) -> Response:
    system = _system(request)
    fields = await form(request)
    name, action = request.path_params["name"], request.path_params["action"]
    if action not in ("enable", "disable"):
        return not_found(request, f"action {action}")
    enabled = action == "enable"
    bus = _bus(request)
    try:
        arn = system.events.rule(here(request), name, bus).arn
    except AwsError:
        return not_found(request, f"rule {name}")
    denied = refusal(request, "events:EnableRule" if enabled else "events:DisableRule", [arn])
    if denied:
        request.session["flash"] = denied
        return RedirectResponse(_back(fields, name, bus), 303)
    system.events.set_state(here(request), name, enabled, bus)
    request.session["flash"] = f"{name} is now {'ENABLED' if enabled else 'DISABLED'}."
    return RedirectResponse(_back(fields, name, bus), 303)


async def run_now(request: Request) -> Response:
    system = _system(request)
    fields = await form(request)
    name = request.path_params["name"]
    targets = system.events.targets(here(request), name)
    definitions = [t.ecs_parameters.task_definition_arn for t in targets if t.ecs_parameters]
    denied = refusal(request, "ecs:RunTask", definitions) if definitions else None
    if denied:
        request.session["flash"] = denied
        return RedirectResponse(_back(fields, name), 303)
    try:
        done = system.scheduler.run_now(system.events.rule(here(request), name).arn)
    except AwsError as err:
        request.session["flash"] = f"Run now failed: {err.code}: {err.message}"
        return RedirectResponse(_back(fields, name), 303)
    failed = [i for i in done if i.state == "FAILED"]
    started = [arn for i in done for arn in i.task_arns]
    message = f"Ran {name} now: {len(started)} task(s) started"
    message += f", {len(failed)} target(s) failed" if failed else ""
    request.session["flash"] = message + "." if done else f"{name} has no targets: nothing ran."
    return RedirectResponse(f"/console/rules/{quote(name)}", 303)


def _back(fields: dict[str, str], name: str, bus: str = DEFAULT_BUS) -> str:
    back = fields.get("back", "")
    on_bus = "" if bus == DEFAULT_BUS else f"?bus={quote(bus)}"
    return back if back.startswith("/console/") else f"/console/rules/{quote(name)}{on_bus}"


TASK_STATUSES = ("active", "PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
                 "DEPROVISIONING", "STOPPED")


def task_filter(params: Any, scope: Scope) -> TaskFilter:
    """The tasks page's filters, from its query string (so a reload or a shared link shows the same list), over the
    tasks of the Region shown."""
    status = params.get("status", "")
    return TaskFilter(
        scope=scope,
        status=status if status in TASK_STATUSES else "",
        cluster=params.get("cluster", "").strip(),
        family=params.get("family", "").strip(),
        started_by=params.get("started_by", "").strip(),
        failed=params.get("failed") == "1",
        search=params.get("q", "").strip(),
    )


def _filter_query(chosen: TaskFilter) -> dict[str, str]:
    return {"status": chosen.status, "cluster": chosen.cluster, "family": chosen.family,
            "started_by": chosen.started_by, "failed": "1" if chosen.failed else "", "q": chosen.search}


async def tasks(request: Request) -> Response:
    system = _system(request)
    cursor = _cursor(request.query_params.get("before"))
    chosen = task_filter(request.query_params, here(request))
    found = Views(system.db).tasks(cursor, PAGE + 1, chosen)
    rows = found[:PAGE]
    following = f"{rows[-1].created_at or 0!r}|{rows[-1].task_arn}" if len(found) > PAGE else None
    now = system.clock.now()
    context = {
        "tasks": [(t, overview.task_url_parts(t), overview.duration(t, now)) for t in rows],
        "following": following,
        "first_page": cursor is None,
        "filters": _filter_query(chosen),
        "filtered": chosen != TaskFilter(scope=chosen.scope),
        "statuses": TASK_STATUSES,
        "choices": _choices(system, here(request)),
        "retention": _days(system.settings.task_retention),
    }
    return page(request, "tasks.html", context)


def _choices(system: System, scope: Scope) -> dict[str, list[str]]:
    """What the filter fields suggest: clusters, families, and the rules and schedules that start tasks (of the
    Region shown)."""
    rules = [f"events-rule/{r.name}" for r in system.events.list_rules(scope, limit=200)]
    schedules = [f"chronos-schedule/{s.name}" for s in system.schedules.list_schedules(scope)[:200]]
    return {
        "cluster": [c.cluster_name for c in system.ecs.list_clusters(scope)][:200],
        "family": system.ecs.families(scope)[:200],
        "started_by": sorted(set(rules + schedules)),
    }


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
    found = overview.find_task(system, here(request), cluster, task_id)
    if found is None:
        retention = _days(system.settings.task_retention)
        return page(request, "task_gone.html", {"cluster": cluster, "task_id": task_id, "retention": retention})
    context = {
        "task": found,
        "cluster": cluster,
        "lifecycle": overview.lifecycle(found),
        "duration": overview.duration(found, system.clock.now()),
        "logs": overview.task_log_links(system, found),
        "definition": found.task_definition_arn.rsplit("/", 1)[-1],
    }
    return page(request, "task.html", context)


def _days(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)} day(s)"
    return f"{seconds / 3600:g} hour(s)"


def routes() -> list[Route]:
    return [
        Route("/", home),
        Route("/schedules", schedules),
        Route("/buses", buses),
        Route("/rules/{name}", rule),
        Route("/deliveries/{id:int}", delivery),
        Route("/rules/{name}/run-now", run_now, methods=["POST"]),
        Route("/rules/{name}/{action}", set_state, methods=["POST"]),
        Route("/invocations/{id:int}", invocation),
        Route("/tasks", tasks),
        Route("/tasks/{cluster}/{id}", task),
        *resources.routes(),
        *schedule_pages.routes(),
        *watch_pages.routes(),
    ]
