"""Our own explain endpoints: may this principal do this action on this resource, and why did an invocation fail."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge.api import own
from cronbridge.api.context import scope_of_request
from cronbridge.api.services.cronbridge_api import invocations_to_json
from cronbridge.store.invocations import Invocation


def _bad(message: str, status: int = 400) -> Response:
    code = "ResourceNotFoundException" if status == 404 else "ValidationException"
    return JSONResponse({"__type": code, "message": message}, status)


@own.signed("Explain")
async def explain(request: Request) -> Response:
    """POST {principal, action, resource, context?} -> the decision, the deciding statements and every statement."""
    system = request.app.state.system
    try:
        payload = own.body_json(request)
    except ValueError:
        return _bad("The body must be a JSON object: {principal, action, resource, context}.")
    if not isinstance(payload, dict):
        return _bad("The body must be a JSON object: {principal, action, resource, context}.")
    missing = [k for k in ("principal", "action") if not isinstance(payload.get(k), str) or not payload[k]]
    if missing:
        return _bad(f"Missing required field(s): {', '.join(missing)}.")
    context = payload.get("context") or {}
    if not isinstance(context, dict) or not all(isinstance(v, str | list) for v in context.values()):
        return _bad("context must map condition keys to a string or a list of strings.")
    resource = payload.get("resource") or "*"
    found = system.authorizer.explain(payload["principal"], payload["action"], str(resource), context)
    return JSONResponse(found.to_json())


def invocation_explanation(system: Any, invocation: Invocation) -> dict[str, Any]:
    """What became of an invocation and why: its recorded error, and the stop reason of each task that failed."""
    [found] = invocations_to_json(system, [invocation])
    lines: list[str] = []
    if invocation.state == "FAILED":
        lines.append(
            f"Invocation {invocation.id} of rule {invocation.rule_name} (target {invocation.target_id}) "
            f"failed: {invocation.error_code}"
        )
        lines += (invocation.error_message or "").splitlines()
    elif invocation.state == "PENDING":
        lines.append(f"Invocation {invocation.id} has not finished yet.")
    else:
        lines.append(
            f"Invocation {invocation.id} of rule {invocation.rule_name} launched {len(invocation.task_arns)} task(s)."
        )
    for arn in invocation.task_arns:
        task = system.ecs.tasks.get(arn)
        if task is not None and task.stopped_reason:
            lines.append(f"Task {arn} stopped ({task.stop_code}): {task.stopped_reason}")
    found["explanation"] = "\n".join(lines)
    return found


@own.signed("ExplainInvocation", own.rule)
async def explain_invocation(request: Request) -> Response:
    """GET /_cronbridge/invocations/{id}/explain, or /_cronbridge/rules/{name}/explain (its latest failure)."""
    system = request.app.state.system
    if "name" in request.path_params:
        rule_arn = scope_of_request(system, request).arn("events", f"rule/{request.path_params['name']}")
        recent = system.scheduler.invocations(rule_arn, 50)
        invocation = next((i for i in recent if i.state == "FAILED"), recent[0] if recent else None)
    else:
        try:
            invocation = system.scheduler.log.get(int(request.path_params["id"]))
        except ValueError:
            return _bad("The invocation id must be a number.")
    if invocation is None:
        return _bad("No such invocation.", 404)
    return JSONResponse(invocation_explanation(system, invocation))


def routes() -> list[Route]:
    return [
        Route("/_cronbridge/explain", explain, methods=["POST"]),
        Route("/_cronbridge/invocations/{id}/explain", explain_invocation, methods=["GET"]),
        Route("/_cronbridge/rules/{name}/explain", explain_invocation, methods=["GET"]),
    ]
