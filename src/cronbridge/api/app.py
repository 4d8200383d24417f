"""One ASGI app for every service: pick the protocol, identify the caller, call the service, serialize."""

from __future__ import annotations

import gzip
import importlib
import logging
import re
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge.api.auth import Authenticated, authenticate
from cronbridge.api.context import RequestContext
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
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


def signing_scope(request: Request) -> tuple[str | None, str | None, str | None]:
    """(access key, region, service) from the SigV4 Authorization header, when there is one."""
    match = _SCOPE.search(request.headers.get("authorization", ""))
    return (match.group(1), match.group(2), match.group(3)) if match else (None, None, None)


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
    )


async def aws_endpoint(request: Request) -> Response:
    system: System = request.app.state.system
    target = request.headers.get("x-amz-target")
    body = await request.body()
    cbor_route = cbor_protocol.parse_path(request.url.path)
    is_cbor = bool(cbor_route) and request.headers.get("smithy-protocol") == "rpc-v2-cbor"
    rest = None if (target or is_cbor) else _rest_service(request)
    try:
        who = authenticate(system, request, body)
    except SigV4Error as err:
        return _auth_error(err, request, target, is_cbor, rest)
    if request.headers.get("content-encoding", "").lower() == "gzip":  # big PutMetricData; signed compressed
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return _error_response(AwsError("The body is not valid gzip.", "SerializationException"), "text/plain")
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
    err: SigV4Error, request: Request, target: str | None, is_cbor: bool, rest: rest_json.RestJsonService | None
) -> Response:
    """A refused signature, worded and coded as the request's protocol does it."""
    if is_cbor:
        return _cbor_error(err.for_protocol("json"), None)
    if rest is not None:
        return _rest_error(rest, err.for_protocol("json"))
    if target:
        service = registry.json_services().get(target.rpartition(".")[0])
        content_type = service.content_type if service else "application/x-amz-json-1.1"
        return _error_response(err.for_protocol("json"), content_type)
    from cronbridge.api.protocols import query

    return query.error_response(err.for_protocol("query"))


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
    except Exception:  # a bug of ours: say so in AWS's shape, keep serving
        log.exception("internal error in %s", target)
        return _error_response(AwsError("Internal error; see the server log.", "InternalFailure", 500), content_type)
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
    except Exception:  # a bug of ours: say so in AWS's shape, keep serving
        log.exception("internal error in %s %s", request.method, raw)
        return _rest_error(service, AwsError("Internal error; see the server log.", "InternalServerException", 500))
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
    except Exception:  # a bug of ours: say so in AWS's shape, keep serving
        log.exception("internal error in %s.%s", prefix, action)
        return _cbor_error(AwsError("Internal error; see the server log.", "InternalFailure", 500), service)
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


def _error_response(err: AwsError, content_type: str, service: JsonService | None = None) -> Response:
    headers = json_protocol.error_headers(err, service)
    return Response(json_protocol.error_body(err), err.status, headers=headers, media_type=content_type)


async def reset(request: Request) -> Response:
    system: System = request.app.state.system
    if not system.settings.allow_reset:
        return JSONResponse({"message": "reset is disabled; start the server with --allow-reset"}, 403)
    system.reset()
    return JSONResponse({"reset": True})


async def advance_clock(request: Request) -> Response:
    system: System = request.app.state.system
    payload = await request.json()
    try:
        system.move_clock(advance=payload.get("advance"), to=payload.get("to"))
    except AwsError as err:
        return JSONResponse({"message": err.message}, err.status)
    return JSONResponse({"now": system.clock.now()})


async def health(request: Request) -> Response:
    system: System = request.app.state.system
    return JSONResponse(system.health())


def create_app(system: System) -> Starlette:
    routes = [
        Route("/_cronbridge/health", health, methods=["GET"]),
        Route("/_cronbridge/reset", reset, methods=["POST"]),
        Route("/_cronbridge/clock", advance_clock, methods=["POST"]),
        *registry.extra_routes(),
        Route("/{path:path}", aws_endpoint, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
    ]
    app = Starlette(routes=routes)
    app.state.system = system
    return app
