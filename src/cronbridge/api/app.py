"""One ASGI app for every service: pick the protocol, identify the caller, call the service, serialize."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from cronbridge.api import faults, intake, own
from cronbridge.api import test_hooks as hooks
from cronbridge.api.auth import Authenticated, unsigned_sts_action
from cronbridge.api.context import RequestContext, signing_scope
from cronbridge.api.long_poll import SCOPE_KEY, LongPolls
from cronbridge.api.offload import Offloaded
from cronbridge.api.protocols import cbor as cbor_protocol
from cronbridge.api.protocols import json as json_protocol
from cronbridge.api.protocols import rest_json
from cronbridge.api.protocols.json import JsonService
from cronbridge.api.services import registry
from cronbridge.api.sigv4 import SigV4Error
from cronbridge.errors import AwsError

if TYPE_CHECKING:
    from cronbridge.system import System

log = logging.getLogger("cronbridge.api")


def make_context(system: System, request: Request, who: Authenticated | None = None) -> RequestContext:
    key, region, _service = signing_scope(request)
    client = request.client
    return RequestContext(
        system=system,
        region=region or system.settings.region,
        account=system.settings.account_id,
        access_key=key,
        principal_arn=who.principal.arn if who else None,
        source_ip=client.host if client else None,
        extra={"host": request.headers.get("host")},
        principal=who.principal if who else None,
        key=who.key if who else None,
        long_poll=request.scope.get(SCOPE_KEY),
    )


async def aws_endpoint(request: Request) -> Response:
    system: System = request.app.state.system
    target = request.headers.get("x-amz-target")
    cbor_route = cbor_protocol.parse_path(request.url.path)
    is_cbor = bool(cbor_route) and request.headers.get("smithy-protocol") == "rpc-v2-cbor"
    rest = None if (target or is_cbor) else _rest_service(request)
    addressed = intake.address(request, target, cbor_route, is_cbor, rest)
    try:  # signature form, size, signature, then inflate: nothing is parsed before the signature is checked
        if not target and not is_cbor and rest is None and intake.unsigned(request):
            body = await intake.read_body(request, intake.QUERY_LIMIT)  # STS takes a few calls unsigned
            if unsigned_sts_action(request, body):
                return _unsigned_sts_call(system, request, body)
        body, who = await intake.admit(system, request, addressed)
    except intake.Disconnected:
        return Response(status_code=400)  # nobody is listening any more
    except AwsError as err:
        return _auth_error(err, request, target, is_cbor, rest)
    if cbor_route and is_cbor:
        return _cbor_call(system, request, cbor_route, body, who)
    if target:
        return _json_call(system, request, target, body, who)
    if rest is not None:
        return _rest_call(system, request, rest, body, who)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return _query_call(system, request, body, who)
    if request.query_params.get("Action"):
        return _query_call(system, request, request.url.query.encode(), who)
    return _error_response(
        AwsError("Missing X-Amz-Target: no operation named in the request.", "UnknownOperationException"),
        "application/x-amz-json-1.1",
    )


def _auth_error(
    err: AwsError, request: Request, target: str | None, is_cbor: bool, rest: rest_json.RestJsonService | None
) -> Response:
    """A refused signature or body, worded and coded as the request's protocol does it."""
    as_json = err.for_protocol("json") if isinstance(err, SigV4Error) else err
    if is_cbor:
        return _cbor_error(as_json, None)
    if rest is not None:
        return _rest_error(rest, as_json)
    if target:
        service = registry.json_services().get(target.rpartition(".")[0])
        content_type = service.content_type if service else "application/x-amz-json-1.1"
        return _error_response(as_json, content_type)
    from cronbridge.api.protocols import query

    as_query = err.for_protocol("query") if isinstance(err, SigV4Error) else AwsError(
        err.message, err.query_code or err.code, err.status)
    return query.error_response(as_query)


def _json_call(system: System, request: Request, target: str, body: bytes, who: Authenticated) -> Response:
    prefix, _, action = target.rpartition(".")
    service = registry.json_services().get(prefix)
    content_type = service.content_type if service else "application/x-amz-json-1.1"
    try:
        if service is None:
            raise AwsError(f"Unknown target prefix {prefix!r}.", "UnknownOperationException")
        result = json_protocol.dispatch(service, action, body, make_context(system, request, who))
    except AwsError as err:
        return _error_response(err, content_type, service)
    except Exception as exc:  # a full disk (503), or a bug of ours: say so in AWS's shape, keep serving
        return _error_response(faults.answer(exc, target), content_type, service)
    return Response(json_protocol.encode_body(result), 200, media_type=content_type)


def _rest_service(request: Request) -> rest_json.RestJsonService | None:
    """The rest-json service a request is for: by its signing name, or (unsigned) by a path template it matches."""
    _key, _region, signing_name = signing_scope(request)
    services = registry.rest_services()
    if signing_name is not None:
        return services.get(signing_name)
    raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    return next((s for s in services.values() if rest_json.path_matches(s.model, raw)), None)


def _rest_call(
    system: System, request: Request, service: rest_json.RestJsonService, body: bytes, who: Authenticated
) -> Response:
    raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    try:
        result = rest_json.dispatch(service, request.method, raw, request.url.query, body,
                                    make_context(system, request, who))
    except AwsError as err:
        return _rest_error(service, err)
    except Exception as exc:  # a full disk (503), or a bug of ours: say so in AWS's shape, keep serving
        return _rest_error(service, faults.answer(exc, f"{request.method} {raw}", "InternalServerException"))
    return Response(json_protocol.encode_body(result), 200, media_type="application/json")


def _rest_error(service: rest_json.RestJsonService, err: AwsError) -> Response:
    return Response(rest_json.error_body(err), rest_json.error_status(service.model, err),
                    headers={"X-Amzn-ErrorType": err.code}, media_type="application/json")


def _cbor_call(
    system: System, request: Request, route: tuple[str, str], body: bytes, who: Authenticated
) -> Response:
    prefix, action = route
    service = registry.json_services().get(prefix)
    try:
        if service is None:
            raise AwsError(f"Unknown service {prefix!r}.", "UnknownOperationException")
        result = cbor_protocol.dispatch(service, action, body, make_context(system, request, who))
    except AwsError as err:
        return _cbor_error(err, service)
    except Exception as exc:  # a full disk (503), or a bug of ours: say so in AWS's shape, keep serving
        return _cbor_error(faults.answer(exc, f"{prefix}.{action}"), service)
    return Response(cbor_protocol.encode(result), 200, headers=cbor_protocol.HEADERS,
                    media_type=cbor_protocol.CONTENT_TYPE)


def _cbor_error(err: AwsError, service: JsonService | None) -> Response:
    headers = {**cbor_protocol.HEADERS, **json_protocol.error_headers(err, service)}
    return Response(cbor_protocol.error_body(err), err.status, headers=headers, media_type=cbor_protocol.CONTENT_TYPE)


def _query_call(system: System, request: Request, body: bytes, who: Authenticated) -> Response:
    """AWS's query protocol (IAM, STS): form-encoded parameters in, XML out."""
    _key, _region, service_name = signing_scope(request)
    try:
        query = importlib.import_module("cronbridge.api.protocols.query")
    except ModuleNotFoundError:
        err = AwsError(f"The query protocol ({service_name}) is not served yet.", "UnknownOperationException")
        return _error_response(err, "application/x-amz-json-1.1")
    response: Response = query.handle(service_name, body, make_context(system, request, who))
    return response


def _unsigned_sts_call(system: System, request: Request, body: bytes) -> Response:
    """STS's unsigned calls (AssumeRoleWithWebIdentity): no caller, so nothing to authorize but the role's trust."""
    from cronbridge.api.protocols import query

    form = body if body else request.url.query.encode()
    response: Response = query.handle("sts", form, make_context(system, request, None))
    return response


def _error_response(err: AwsError, content_type: str, service: JsonService | None = None) -> Response:
    headers = json_protocol.error_headers(err, service)
    return Response(json_protocol.error_body(err), err.status, headers=headers, media_type=content_type)


@own.signed("Reset")
async def reset(request: Request) -> Response:
    system: System = request.app.state.system
    if not system.settings.allow_reset:
        return JSONResponse({"message": "reset is disabled; start the server with --allow-reset"}, 403)
    system.reset()
    return JSONResponse({"reset": True})


@own.signed("SetClock")
async def advance_clock(request: Request) -> Response:
    system: System = request.app.state.system
    try:
        payload = own.body_json(request) or {}
        if not isinstance(payload, dict):
            raise ValueError("not an object")
        system.move_clock(advance=payload.get("advance"), to=payload.get("to"))
    except ValueError:
        return JSONResponse({"message": "The body must be a JSON object: {advance} or {to}."}, 400)
    except AwsError as err:
        return JSONResponse({"message": err.message}, err.status)
    return JSONResponse({"now": system.clock.now()})


HEALTH_PATH = "/_cronbridge/health"


def health_app(system: System) -> ASGIApp:
    """GET /_cronbridge/health, answered on the event loop from memory (no database, no lock): it answers while
    every request thread is busy, and says "degraded" when the watchdog saw a stall."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        status = 200 if scope["method"] in ("GET", "HEAD") else 405
        await JSONResponse(system.health() if status == 200 else {"message": "GET only"}, status)(scope, receive, send)

    return answer


def create_app(system: System) -> ASGIApp:
    """The app: SQS long polling waiting on the event loop (api/long_poll.py) around every route, each run off the
    event loop on the server's request threads (the health check excepted)."""
    return LongPolls(routes_app(system), system.arrivals, system.queues.ready)


def routes_app(system: System) -> Offloaded:
    """Every route, run off the event loop on the server's request threads (the health check answers from memory on
    the loop)."""
    routes = [
        Route("/_cronbridge/reset", reset, methods=["POST"]),
        Route("/_cronbridge/clock", advance_clock, methods=["POST"]),
        *registry.extra_routes(),
        Route("/{path:path}", aws_endpoint, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
    ]
    app = Starlette(routes=routes, exception_handlers={ClientDisconnect: intake.hung_up})
    app.state.system = system
    inline = {HEALTH_PATH: health_app(system)}
    if system.settings.test_hooks:
        inline[hooks.STALL_PATH] = hooks.stall_app(system)
    return Offloaded(
        fresh(app, system), system.settings.http_threads, inline=lambda scope: inline.get(scope["path"]),
        max_body=intake.LARGEST,
    )


def fresh(app: ASGIApp, system: System) -> ASGIApp:
    """Before each request, the caches another server process made stale are dropped (peers/caches.py)."""

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        system.freshness.check()
        await app(scope, receive, send)

    return call
