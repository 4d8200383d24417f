"""The awsJson1.0/1.1 protocols: X-Amz-Target dispatch, shape validation, JSON bodies and error bodies."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cronbridge.api.authz import authorize_call
from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.shapes import operation, validate, validation_message
from cronbridge.errors import AwsError

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class JsonService:
    """A service spoken over awsJson: its X-Amz-Target prefix, botocore model name and operation handlers."""

    target_prefix: str
    model: str
    operations: Mapping[str, Handler]
    validation_code: str = "ValidationException"
    json_version: str = "1.1"
    query_compatible: bool = False  # the model's awsQueryCompatible: errors also carry x-amzn-query-error

    @property
    def content_type(self) -> str:
        return f"application/x-amz-json-{self.json_version}"


def parse_body(body: bytes) -> dict[str, Any]:
    """The request's JSON object; an empty body is {}; anything else malformed is a SerializationException."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AwsError(f"Malformed JSON: {exc}", "SerializationException") from exc
    if not isinstance(value, dict):
        raise AwsError("Start of structure or map found where not expected.", "SerializationException")
    return value


def dispatch(service: JsonService, action: str, body: bytes, ctx: RequestContext) -> dict[str, Any]:
    """Validate and run one operation; raises AwsError for anything the client got wrong."""
    return run(service, action, body, parse_body, ctx)


def run(
    service: JsonService, action: str, body: bytes, parse: Callable[[bytes], dict[str, Any]], ctx: RequestContext
) -> dict[str, Any]:
    """The one path of an RPC call whatever its encoding: find, parse, validate, authorize, handle."""
    handler = service.operations.get(action)
    op = operation(service.model, action)
    if handler is None or op is None:
        raise AwsError(f"Operation {action} is not supported.", "UnknownOperationException")
    params = parse(body)
    problems = validate(op, params, service.validation_code)
    if problems:
        raise AwsError(validation_message(problems), service.validation_code)
    authorize_call(ctx, service.target_prefix, action, params)
    return handler(ctx, params)


def encode_body(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_default).encode()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):  # timestamps on the wire of awsJson: epoch seconds
        return value.timestamp()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def error_body(err: AwsError) -> bytes:
    return encode_body({"__type": err.code, "message": err.message})


def error_headers(err: AwsError, service: JsonService | None) -> dict[str, str]:
    """X-Amzn-ErrorType, and for services whose model is awsQueryCompatible the query-era code boto3 reports."""
    headers = {"X-Amzn-ErrorType": err.code}
    if service is not None and service.query_compatible:
        fault = "Receiver" if err.status >= 500 else "Sender"
        headers["x-amzn-query-error"] = f"{err.query_code or err.code};{fault}"
    return headers
