"""AWS's query protocol (IAM, STS): form parameters in (member.N lists), XML out, XML errors, driven by botocore."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from starlette.responses import Response

from cronbridge.api import faults
from cronbridge.api.authz import authorize_call
from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.shapes import matches, operation, shown, validate, validation_message
from cronbridge.errors import AwsError

log = logging.getLogger("cronbridge.api.query")
Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any] | None]
POLICY_DOCUMENT = "policyDocumentType"  # IAM URL-encodes these strings in responses; boto3 decodes them
MEDIA_TYPE = "text/xml"


@dataclass(frozen=True)
class QueryService:
    """A service spoken over the query protocol: its signing name, botocore model, XML namespace and handlers."""

    signing_name: str
    model: str
    namespace: str
    operations: Mapping[str, Handler]


def handle(service_name: str | None, body: bytes, ctx: RequestContext) -> Response:
    """One query request: parse, validate, call, render; every failure becomes an XML ErrorResponse."""
    from cronbridge.api.services import registry

    service = registry.query_services().get(service_name or "")
    namespace = service.namespace if service else None
    try:
        if service is None:
            raise AwsError(f"The service {service_name!r} is not served over the query protocol.", "InvalidAction")
        return _call(service, parse_form(body), ctx)
    except AwsError as err:
        return error_response(err, namespace)
    except Exception as exc:  # a full disk (503), or a bug of ours: say so in AWS's shape, keep serving
        fault = faults.answer(exc, f"{service_name}.{form_action(body)}")
        return error_response(AwsError(fault.message, fault.query_code or fault.code, fault.status), namespace)


def _call(service: QueryService, form: dict[str, str], ctx: RequestContext) -> Response:
    action = form.get("Action", "")
    op = operation(service.model, action)
    handler = service.operations.get(action)
    if op is None or handler is None:
        version = form.get("Version", "")
        raise AwsError(f"Could not find operation {action} for version {version}", "InvalidAction")
    params = decode(op.input_shape, form) if op.input_shape is not None else {}
    problems = [_member_named(p) for p in validate(op, params, "ValidationError")]
    problems += pattern_problems(op.input_shape, params)
    if problems:
        raise AwsError(validation_message(problems), "ValidationError")
    authorize_call(ctx, service.signing_name, action, params, query=True)
    result = handler(ctx, params) or {}
    return Response(render(op, result, service.namespace), 200, media_type=MEDIA_TYPE)


_AT = re.compile(r" at '([A-Z])")


def _member_named(problem: str) -> str:
    """IAM's and STS's messages name a member in camelCase (`at 'roleSessionName'`), not as the form spells it."""
    return _AT.sub(lambda m: f" at '{m.group(1).lower()}", problem, count=1)


def form_action(body: bytes) -> str:
    """The Action a form names (for the log), without failing on anything."""
    return dict(parse_qsl(body.decode("utf-8", "replace"))).get("Action", "?")


def parse_form(body: bytes) -> dict[str, str]:
    """The form-encoded (or query-string) parameters; a repeated name keeps its last value."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise AwsError("The request body is not valid UTF-8.", "MalformedQueryString") from None
    return dict(parse_qsl(text, keep_blank_values=True))


# decoding: flat form names -> nested values, by the input shape


def decode(shape: StructureShape, form: Mapping[str, str]) -> dict[str, Any]:
    """Build the request's parameters: `Tags.member.1.Key`, `ActionNames.member.2` and scalars by type."""
    value = _structure(shape, "", form)
    return value if isinstance(value, dict) else {}


def _present(prefix: str, form: Mapping[str, str]) -> bool:
    return prefix in form or any(name.startswith(prefix + ".") for name in form)


def _value(shape: Shape, prefix: str, form: Mapping[str, str]) -> Any:
    if isinstance(shape, StructureShape):
        return _structure(shape, prefix + ".", form)
    if isinstance(shape, ListShape):
        return _list(shape, prefix, form)
    if isinstance(shape, MapShape):
        return _map(shape, prefix, form)
    return _scalar(shape, prefix, form.get(prefix, ""))


def _structure(shape: StructureShape, prefix: str, form: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        key = prefix + member.serialization.get("name", name)
        if _present(key, form):
            out[name] = _value(member, key, form)
    return out


def _list(shape: ListShape, prefix: str, form: Mapping[str, str]) -> list[Any]:
    base = prefix if shape.serialization.get("flattened") else f"{prefix}.member"
    items, index = [], 1
    while _present(f"{base}.{index}", form):
        items.append(_value(shape.member, f"{base}.{index}", form))
        index += 1
    return items


def _map(shape: MapShape, prefix: str, form: Mapping[str, str]) -> dict[str, Any]:
    out, index = {}, 1
    while _present(f"{prefix}.entry.{index}", form):
        key = form.get(f"{prefix}.entry.{index}.key", "")
        out[key] = _value(shape.value, f"{prefix}.entry.{index}.value", form)
        index += 1
    return out


def _scalar(shape: Shape, where: str, text: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        raise AwsError(
            f"Value '{text}' at '{where}' failed to satisfy constraint: Member must be of type {kind}",
            "ValidationError",
        ) from None
    if kind == "boolean":
        return text.lower() == "true"
    return text


def pattern_problems(shape: StructureShape | None, params: Mapping[str, Any]) -> list[str]:
    """Top-level strings that break their member's `pattern` (names like `[\\w+=,.@-]+`), in IAM's wording."""
    problems = []
    for name, member in shape.members.items() if shape is not None else ():
        pattern, value = member.metadata.get("pattern"), params.get(name)
        if isinstance(value, str) and pattern and not matches(pattern, value):
            where = name[:1].lower() + name[1:]
            problems.append(
                f"Value '{shown(value)}' at '{where}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
    return problems


# rendering: result dicts -> XML, by the output shape


def render(op: OperationModel, result: Mapping[str, Any], namespace: str) -> bytes:
    """`<OpResponse xmlns=..><OpResult>...</OpResult><ResponseMetadata>..</ResponseMetadata></OpResponse>`."""
    parts = [f'<{op.name}Response xmlns="{namespace}">']
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result")
        parts.append(f"<{wrapper}>")
        _members(shape, result, parts)
        parts.append(f"</{wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata></{op.name}Response>")
    return "".join(parts).encode("utf-8")


def _members(shape: StructureShape, value: Mapping[str, Any], parts: list[str]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        tag = member.serialization.get("name", name)
        parts.append(f"<{tag}>")
        _xml(member, item, parts)
        parts.append(f"</{tag}>")


def _xml(shape: Shape, value: Any, parts: list[str]) -> None:
    if isinstance(shape, StructureShape):
        _members(shape, value, parts)
    elif isinstance(shape, ListShape):
        tag = shape.member.serialization.get("name", "member")
        for item in value:
            parts.append(f"<{tag}>")
            _xml(shape.member, item, parts)
            parts.append(f"</{tag}>")
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            parts.append(f"<entry><key>{escape(str(key))}</key><value>")
            _xml(shape.value, item, parts)
            parts.append("</value></entry>")
    else:
        parts.append(escape(_text(shape, value)))


def _text(shape: Shape, value: Any) -> str:
    if shape.type_name == "timestamp" and isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.name == POLICY_DOCUMENT:
        return quote(str(value), safe="")
    return str(value)


def request_id() -> str:
    return str(uuid.uuid4())


def error_response(err: AwsError, namespace: str | None = None) -> Response:
    """`<ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>..`."""
    kind = "Receiver" if err.status >= 500 else "Sender"
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    body = (
        f"<ErrorResponse{xmlns}><Error><Type>{kind}</Type><Code>{escape(err.code)}</Code>"
        f"<Message>{escape(err.message)}</Message></Error><RequestId>{request_id()}</RequestId></ErrorResponse>"
    )
    return Response(body.encode("utf-8"), err.status, media_type=MEDIA_TYPE)
