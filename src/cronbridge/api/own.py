"""Our own endpoints (/_cronbridge/...) signed and authorized like any AWS call: SigV4 scoped to the `cronbridge`
service, and an IAM action of our own (cronbridge:RunNow, cronbridge:GetInvocations, ... see docs/iam.md) on the
rule's or schedule's ARN. In open mode any well-formed signature acts as the administrator, as for AWS calls."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cronbridge import arn as arns
from cronbridge.api import faults, intake
from cronbridge.api.auth import Authenticated
from cronbridge.api.authz import denied
from cronbridge.api.context import scope_of_request
from cronbridge.api.sigv4 import SigV4Error
from cronbridge.errors import AwsError

if TYPE_CHECKING:
    from cronbridge.system import System

SERVICE = "cronbridge"  # the SigV4 signing name and IAM prefix of our endpoints
ACTIONS = ("RunNow", "GetInvocations", "GetNextFireTimes", "GetTaskEvents", "ListRules", "ListSchedules",
           "ListTasks", "GetTask", "Explain", "ExplainInvocation", "Reset", "SetClock", "SetOidcKeys", "GetOidcKeys")
# docs/iam.md lists each
Endpoint = Callable[[Request], Awaitable[Response]]
Resources = Callable[[Request, str, str], list[str]]
"""The ARNs a call acts on, from the request, its region and the account."""


def everything(request: Request, region: str, account: str) -> list[str]:
    return ["*"]


def rule(request: Request, region: str, account: str) -> list[str]:
    """The rule named in the path (or the `rule` query parameter); every rule when none is."""
    name = request.path_params.get("name") or request.query_params.get("rule")
    bus = request.query_params.get("bus")
    path = f"rule/{bus}/{name}" if bus and bus != "default" else f"rule/{name}"  # as EventBridge names rule ARNs
    return [arns.build("events", region, account, path)] if name else ["*"]


def schedule(request: Request, region: str, account: str) -> list[str]:
    """The schedule named in the path (or the `schedule` query parameter), in its group (default: `default`)."""
    name = request.path_params.get("name") or request.query_params.get("schedule")
    group = request.query_params.get("group") or "default"
    return [arns.build("scheduler", region, account, f"schedule/{group}/{name}")] if name else ["*"]


def task(request: Request, region: str, account: str) -> list[str]:
    """The task named in the path (`/tasks/{cluster}/{id}`), as ECS names it: `task/CLUSTER/ID`."""
    cluster = request.path_params["cluster"].rpartition("/")[2]  # a cluster's name, or the end of its ARN
    return [arns.build("ecs", region, account, f"task/{cluster}/{request.path_params['id']}")]


def invocations_of(request: Request, region: str, account: str) -> list[str]:
    """GET /_cronbridge/invocations: one schedule's, one rule's, or everyone's."""
    if request.query_params.get("schedule"):
        return schedule(request, region, account)
    return rule(request, region, account)


def signed(action: str, resources: Resources = everything) -> Callable[[Endpoint], Endpoint]:
    """Guard an endpoint: its signature checked (scoped to `cronbridge`), then `cronbridge:<action>` authorized on
    `resources`; the body, once verified, is in `request.state.body`."""

    if action not in ACTIONS:
        raise ValueError(f"cronbridge:{action} is not one of our documented actions")

    def wrap(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            system: System = request.app.state.system
            try:
                body, who = await _admit(system, request, action)
                scope = scope_of_request(system, request)  # the Region it acts in: its signature's, or ?region=
                refusal = _refusal(system, who.principal, f"{SERVICE}:{action}",
                                   resources(request, scope.region, scope.account), request)
            except intake.Disconnected:
                return Response(status_code=400)
            except AwsError as err:
                return error(err.for_protocol("json") if isinstance(err, SigV4Error) else err)
            if refusal is not None:
                return error(denied(refusal))
            request.state.body = body
            try:
                return await endpoint(request)
            except Exception as exc:  # a full disk (503), or a bug of ours: said in AWS's shape
                return error(faults.answer(exc, f"{request.method} {request.url.path}"))

        guarded.__name__ = endpoint.__name__
        guarded.__doc__ = endpoint.__doc__
        return guarded

    return wrap


async def _admit(system: System, request: Request, action: str) -> tuple[bytes, Authenticated]:
    """The body and its signer; in open mode an unsigned call is the administrator's (curl works there)."""
    addressed = intake.Addressed(SERVICE, action)
    signs = "authorization" in request.headers or "X-Amz-Signature" in request.query_params
    if system.settings.auth == "open" and not signs:
        body = await intake.read_body(request, addressed.limits()[0])
        return body, Authenticated(system.identity.admin(), None, None)
    return await intake.admit(system, request, addressed)


def _refusal(system: System, principal: Any, action: str, resources: list[str], request: Request) -> str | None:
    authorizer = system.authorizer
    if not authorizer.enforcing:
        return None
    context: dict[str, Any] = {"aws:RequestedRegion": scope_of_request(system, request).region,
                               "aws:SecureTransport": "false"}
    if request.client is not None:
        context["aws:SourceIp"] = request.client.host
    message: str | None = authorizer.first_refusal(principal, action, resources, context)
    return message


def error(err: AwsError) -> Response:
    """Our endpoints' errors: awsJson's shape ({"__type", "message"}, X-Amzn-ErrorType)."""
    return JSONResponse({"__type": err.code, "message": err.message}, err.status,
                        headers={"X-Amzn-ErrorType": err.code})


def body_json(request: Request) -> Any:
    """The verified body as JSON (None when empty); ValueError when it is not JSON."""
    body: bytes = request.state.body
    return json.loads(body) if body.strip() else None
