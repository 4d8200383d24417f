"""AWS rest-json: operations picked by HTTP method and requestUri template, inputs from path, query and JSON body."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, Shape

from cronbridge.api.authz import authorize_call
from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import encode_body, parse_body, without_nulls
from cronbridge.api.protocols.shapes import service_model, validate, validation_message
from cronbridge.errors import AwsError

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]
_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@dataclass(frozen=True)
class RestJsonService:
    """A rest-json service: its botocore model name, SigV4 signing name and operation handlers."""

    model: str
    signing_name: str
    operations: Mapping[str, Handler]
    validation_code: str = "ValidationException"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    literal_segments: int  # more literal text wins when two templates match


@functools.cache
def routes(model: str) -> tuple[Route, ...]:
    """Every operation's (method, path regex) from the model's requestUri templates."""
    found: list[Route] = []
    service = service_model(model)
    for name in service.operation_names:
        http = service.operation_model(name).http
        path = http["requestUri"].split("?", 1)[0]
        regex, literal = "", 0
        for part in re.split(r"(\{[A-Za-z0-9_]+\+?\})", path):
            label = _LABEL.fullmatch(part)
            if label:
                regex += f"(?P<{label[1]}>.+)" if label[2] else f"(?P<{label[1]}>[^/]+)"
            else:
                regex += re.escape(part)
                literal += len(part)
        found.append(Route(http["method"], re.compile(regex + "/?"), name, literal))
    return tuple(sorted(found, key=lambda r: -r.literal_segments))


def match(model: str, method: str, raw_path: str) -> tuple[str, dict[str, str]] | None:
    """(operation, path labels) for a request, or None when no template of the service matches its path."""
    for route in routes(model):
        found = route.pattern.fullmatch(raw_path)
        if found and route.method == method:
            return route.operation, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def path_matches(model: str, raw_path: str) -> bool:
    """Whether any of the service's templates matches the path, whatever the method."""
    return any(route.pattern.fullmatch(raw_path) for route in routes(model))


def dispatch(
    service: RestJsonService, method: str, raw_path: str, query: str, body: bytes, ctx: RequestContext
) -> dict[str, Any]:
    """Route, parse, validate and run one request; raises AwsError for anything the client got wrong."""
    found = match(service.model, method, raw_path)
    if found is None:
        raise AwsError(f"No operation matches {method} {raw_path}.", "UnknownOperationException", 404)
    name, labels = found
    handler = service.operations.get(name)
    if handler is None:
        raise AwsError(f"Operation {name} is not supported.", "UnknownOperationException", 404)
    op = service_model(service.model).operation_model(name)
    params = without_nulls(parse_input(op, labels, query, body))
    problems = validate(op, params, service.validation_code)
    if problems:
        raise AwsError(validation_message(problems), service.validation_code)
    authorize_call(ctx, service.signing_name, name, params)
    return handler(ctx, params)


def parse_input(op: OperationModel, labels: dict[str, str], query: str, body: bytes) -> dict[str, Any]:
    """The operation's input: JSON body members, then path labels and query-string members by their location."""
    shape = op.input_shape
    params = parse_body(body)
    if shape is None:
        return params
    pairs = parse_qsl(query, keep_blank_values=True)
    for name, member in shape.members.items():
        location, wire = member.serialization.get("location"), member.serialization.get("name", name)
        if location == "uri" and wire in labels:
            params[name] = labels[wire]
        elif location == "querystring":
            values = [v for k, v in pairs if k == wire]
            if values:
                params[name] = _query_value(member, values, wire)
    return params


def _query_value(member: Shape, values: list[str], wire: str) -> Any:
    if member.type_name == "list":
        return values
    if member.type_name in ("integer", "long"):
        try:
            return int(values[0])
        except ValueError as exc:
            raise AwsError(f"Value '{values[0]}' at '{wire}' is not a number.", "ValidationException") from exc
    if member.type_name == "boolean":
        return values[0].lower() == "true"
    return values[0]


def error_status(model: str, err: AwsError) -> int:
    """The HTTP status the model gives the error's code (e.g. ConflictException 409), else the error's own."""
    return _error_statuses(model).get(err.code, err.status)


@functools.cache
def _error_statuses(model: str) -> dict[str, int]:
    statuses: dict[str, int] = {}
    for shape in service_model(model).error_shapes:
        status = shape.metadata.get("error", {}).get("httpStatusCode")
        if status:
            statuses[shape.name] = int(status)
    return statuses


def error_body(err: AwsError) -> bytes:
    return encode_body({"Message": err.message})


