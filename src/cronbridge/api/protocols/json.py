"""The awsJson1.0/1.1 protocols: X-Amz-Target dispatch, shape validation, JSON bodies and error bodies."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import compress, repeat
from typing import Any

import orjson

from cronbridge.api.authz import authorize_call
from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.shapes import operation, validate, validation_message
from cronbridge.errors import AwsError
from cronbridge.nesting import MAX_DEPTH, levels, lone_surrogate, objects, survey, too_deep

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_NULL_MEMBER = re.compile(rb":\s*null")  # how a member set to null is spelled (a string holding it: a false alarm)
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
        value = _fast_decode(body)
        if value is None:
            value = json.loads(body)
            check_value(value, _SURROGATE_ESCAPE.search(body) is not None)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AwsError(f"Malformed JSON: {exc}", "SerializationException") from exc
    except RecursionError:  # nested past the interpreter's own limit
        raise _too_deep() from None
    if not isinstance(value, dict):
        raise AwsError("Start of structure or map found where not expected.", "SerializationException")
    return value


def _fast_decode(body: bytes) -> Any:
    """orjson's decoding (several times faster than the standard library's on a large body), checked for depth; None
    wherever the standard library's reading could differ, for `json` to decode: a text orjson refuses (NaN, UTF-16,
    lone surrogates, a malformed text whose error `json` words) or one holding a float (orjson reads an integer past
    64 bits as a float, `json` as an int). What orjson accepts is valid UTF-8: no lone surrogate to look for."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    deep, floats = survey(value)
    if deep:
        raise _too_deep()
    return None if floats else value


def parse_input(body: bytes) -> dict[str, Any]:
    """The request's members (parse_body), those set to null left out; the walk to find them only when the body
    spells one (most requests hold none, and a walk over 10,000 log events is not free)."""
    value = parse_body(body)
    return without_nulls(value) if _NULL_MEMBER.search(body) else value


def check_value(value: Any, may_hold_surrogates: bool = True) -> None:
    """SerializationException for a decoded body nested too deep, or holding a string no UTF-8 store can keep."""
    if too_deep(value):
        raise _too_deep()
    if may_hold_surrogates and lone_surrogate(value) is not None:
        raise AwsError("Invalid UTF-8: the request holds a lone surrogate (\\ud800-\\udfff without its pair).",
                       "SerializationException")


def without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    """The input with every `"member": null` left out, as AWS reads a null member: not set (a null in a list is
    still refused by validation). In place, without recursion."""
    for level in levels(value):  # the next level is gathered after this one is cleaned
        dicts = objects(level)
        for item in compress(dicts, map(operator.contains, map(dict.values, dicts), repeat(None))):
            for key in [k for k, v in item.items() if v is None]:
                del item[key]
    return value


def _too_deep() -> AwsError:
    return AwsError(f"The request nests objects or arrays deeper than {MAX_DEPTH} levels.", "SerializationException")


def dispatch(service: JsonService, action: str, body: bytes, ctx: RequestContext) -> dict[str, Any]:
    """Validate and run one operation; raises AwsError for anything the client got wrong."""
    return run(service, action, body, parse_input, ctx)


def run(
    service: JsonService, action: str, body: bytes, parse: Callable[[bytes], dict[str, Any]], ctx: RequestContext
) -> dict[str, Any]:
    """The one path of an RPC call whatever its encoding: find, parse (`parse` leaves out null members),
    validate, authorize, handle."""
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
