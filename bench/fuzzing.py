"""Malformed requests for every implemented operation, driven by botocore's service models and a seeded random
source: a plausible input for the operation's shape, then one mutation of its values or of its encoding; each
request is built for its protocol (awsJson, smithy-rpc-v2-cbor, rest-json, query) and SigV4-signed as it should be,
so that it reaches parsing, validation and the service rather than stopping at the signature."""

from __future__ import annotations

import base64
import functools
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import cbor2
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cronbridge.api.protocols.shapes import service_model
from cronbridge.api.services import registry

TEXT = string.ascii_letters + string.digits + "-_./:@ "
NASTY_STRINGS = (
    "", " ", "\x00", "\ud800", "\udfff", "a\ud83d", "\U0001f600" * 50, "é" * 300, "%s%n%x", "../../etc/passwd",
    "' OR 1=1 --", "<script>alert(1)</script>", "\\", '"', "{}", "[]", "null", "*", "?", "%", "%%", "%(a)%",
    "{ $.a = ", "[a, ...", "cron(* * * * * *)", "rate(0 minutes)", "at(2099-13-40T25:61:61)", "arn:aws:::",
    "arn:aws:ecs:us-east-1:000000000000:task-definition/x:1", "arn:aws:iam::000000000000:role/" + "r" * 200,
    "\n\r\t\v\f", "\u202e", "\ufeff", "0" * 5000, "9" * 400, "-1", "1e309", "NaN", "true",
)
NASTY_NUMBERS: tuple[Any, ...] = (-1, 0, 2**31, 2**63, 2**70, -(2**70), 1.5, 1e308, -1e308, float("nan"),
                                  float("inf"), True, "1", None)


@dataclass(frozen=True)
class Operation:
    """One implemented operation: its protocol, service and botocore model."""

    protocol: str  # json | cbor | rest | query
    signing_name: str
    prefix: str  # X-Amz-Target prefix (json, cbor) or model name
    model: OperationModel
    json_version: str = "1.1"


@dataclass
class Request:
    """One HTTP request to send, signed for `signing_name`."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    signing_name: str
    label: str
    mutation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@functools.cache
def operations() -> list[Operation]:
    """Every operation the server implements, over each protocol it speaks it in."""
    found: list[Operation] = []
    for prefix, service in registry.json_services().items():
        model = service_model(service.model)
        protocol = "cbor" if model.protocol == "smithy-rpc-v2-cbor" else "json"
        for name in sorted(service.operations):
            op = model.operation_model(name)
            found.append(Operation("json", model.signing_name, prefix, op, service.json_version))
            if protocol == "cbor":
                found.append(Operation("cbor", model.signing_name, prefix, op))
    for service in registry.rest_services().values():
        model = service_model(service.model)
        found += [Operation("rest", service.signing_name, service.model, model.operation_model(name))
                  for name in sorted(service.operations)]
    for service in registry.query_services().values():
        model = service_model(service.model)
        found += [Operation("query", service.signing_name, service.model, model.operation_model(name))
                  for name in sorted(service.operations)]
    return found


# plausible values, by shape ----------------------------------------------------------------------


def plausible(shape: Shape | None, rng: random.Random, depth: int = 0) -> Any:
    """A value of the shape's type within its declared bounds (patterns are ignored: often they will not hold)."""
    if shape is None:
        return {}
    if isinstance(shape, StructureShape):
        chosen = [n for n in shape.members if n in shape.required_members or rng.random() < 0.4]
        return {n: plausible(shape.members[n], rng, depth + 1) for n in chosen if depth < 6 or
                n in shape.required_members}
    if isinstance(shape, ListShape):
        low = shape.metadata.get("min", 0)
        return [plausible(shape.member, rng, depth + 1) for _ in range(max(low, rng.randint(0, 2)))] if depth < 8 \
            else []
    if isinstance(shape, MapShape):
        return {_text(rng, 1, 12): plausible(shape.value, rng, depth + 1) for _ in range(rng.randint(0, 2))}
    return _scalar(shape, rng)


def _scalar(shape: Shape, rng: random.Random) -> Any:
    kind = shape.type_name
    if kind == "string":
        if shape.enum:
            return rng.choice(shape.enum)
        low, high = shape.metadata.get("min", 1), min(shape.metadata.get("max", 40), 40)
        return _text(rng, low, max(low, high))
    if kind in ("integer", "long"):
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 100)
        return rng.randint(int(low), int(min(high, low + 1000)))
    if kind in ("float", "double"):
        return round(rng.uniform(0, 1000), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "timestamp":
        return 1_700_000_000 + rng.randint(0, 10**8)
    if kind == "blob":
        return base64.b64encode(rng.randbytes(rng.randint(0, 32))).decode()
    return None


def _text(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(TEXT) for _ in range(rng.randint(low, high)))


# mutations of values -------------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def _deep(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(levels):
        value = [value] if i % 2 else {"a": value}
    return value


VALUE_MUTATIONS: dict[str, Callable[[random.Random], Any]] = {
    "nasty string": lambda rng: rng.choice(NASTY_STRINGS),
    "nasty number": lambda rng: rng.choice(NASTY_NUMBERS),
    "null": lambda rng: None,
    "wrong container": lambda rng: rng.choice([[], {}, [None], [[]], {"": None}, [1, "a", {}]]),
    "huge string": lambda rng: rng.choice("aZ\u00e9\U0001f600") * rng.choice([1025, 70_000, 300_000]),
    "long list": lambda rng: ["x"] * rng.choice([101, 1001, 20_000]),
    "deep nesting": lambda rng: _deep(rng.choice([65, 200, 3000])),
    "many keys": lambda rng: {f"k{i}": i for i in range(rng.choice([51, 2000]))},
}


def mutate(value: Any, rng: random.Random) -> tuple[Any, str]:
    """One mutation somewhere in the value: a nasty leaf, a missing or unknown member, or nothing (20%)."""
    roll = rng.random()
    if roll < 0.2:
        return value, "none"
    if roll < 0.3 and isinstance(value, dict) and value:
        gone = rng.choice(list(value))
        return {k: v for k, v in value.items() if k != gone}, "missing member"
    if roll < 0.36 and isinstance(value, dict):
        return {**value, rng.choice(["__proto__", "Unknown", "", "\ud800"]): 1}, "unknown member"
    name = rng.choice(list(VALUE_MUTATIONS))
    path = rng.choice(_paths(value))
    return _replace(value, path, VALUE_MUTATIONS[name](rng)), name


# encodings, per protocol ----------------------------------------------------------------------------


def _json_bytes(value: Any) -> bytes:
    try:
        return json.dumps(value).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):
        return b"{}"


BODY_MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "truncated": lambda body, rng: body[: rng.randint(0, max(0, len(body) - 1))],
    "garbage bytes": lambda body, rng: rng.randbytes(rng.randint(1, 200)),
    "not utf-8": lambda body, rng: body + b"\xff\xfe\xc3",
    "array": lambda body, rng: b"[" + body + b"]",
    "empty": lambda body, rng: b"",
    "duplicate keys": lambda body, rng: b'{"a": 1, "a": 2}',
    "number body": lambda body, rng: b"1e99999",
    "deep body": lambda body, rng: b"[" * 100_000 + b"]" * 100_000,
    "NaN": lambda body, rng: b'{"x": NaN, "y": Infinity, "z": -Infinity}',
}


def build(op: Operation, rng: random.Random, host: str) -> Request:
    """One request for `op`: a plausible input, one mutation of it, then (sometimes) one of its encoded body."""
    value, mutation = mutate(plausible(op.model.input_shape, rng), rng)
    request = encode(op, value, rng, host)
    request.mutation = mutation
    if rng.random() < 0.12 and op.protocol != "query":
        name = rng.choice(list(BODY_MUTATIONS))
        request.body, request.mutation = BODY_MUTATIONS[name](request.body, rng), f"body: {name}"
    return request


def encode(op: Operation, value: Any, rng: random.Random, host: str) -> Request:
    """The request carrying `value` as `op`'s input, encoded as its protocol encodes it."""
    encoders = {"json": _json_request, "cbor": _cbor_request, "rest": _rest_request, "query": _query_request}
    return encoders[op.protocol](op, value, rng, host)


def _json_request(op: Operation, value: Any, rng: random.Random, host: str) -> Request:
    headers = {"Host": host, "Content-Type": f"application/x-amz-json-{op.json_version}",
               "X-Amz-Target": f"{op.prefix}.{op.model.name}"}
    return Request("POST", "/", "", headers, _json_bytes(value), op.signing_name, f"json {op.model.name}")


def _cbor_request(op: Operation, value: Any, rng: random.Random, host: str) -> Request:
    headers = {"Host": host, "Content-Type": "application/cbor", "Accept": "application/cbor",
               "smithy-protocol": "rpc-v2-cbor"}
    try:
        body = cbor2.dumps(value)
    except (ValueError, TypeError, RecursionError, cbor2.CBOREncodeError):
        body = cbor2.dumps({})
    path = f"/service/{op.prefix}/operation/{op.model.name}"
    return Request("POST", path, "", headers, body, op.signing_name, f"cbor {op.model.name}")


def _rest_request(op: Operation, value: Any, rng: random.Random, host: str) -> Request:
    http = op.model.http
    path, _, _ = http["requestUri"].partition("?")
    shape = op.model.input_shape
    params: list[tuple[str, str]] = []
    body = dict(value) if isinstance(value, dict) else {}
    for name, member in (shape.members.items() if shape is not None else ()):
        location, wire = member.serialization.get("location"), member.serialization.get("name", name)
        item = body.pop(name, None)
        if location == "uri":
            text = _form_text(item) if item not in (None, "") else rng.choice(["x", "", "%2F", "..", "a/b"])
            path = path.replace("{" + wire + "}", quote(text, safe="/" if rng.random() < 0.1 else ""))
            path = path.replace("{" + wire + "+}", quote(text, safe="/"))
        elif location == "querystring" and item is not None:
            params += [(wire, _form_text(v)) for v in (item if isinstance(item, list) else [item])]
        elif item is not None:
            body[name] = item
    headers = {"Host": host, "Content-Type": "application/json"}
    data = _json_bytes(body) if http["method"] in ("POST", "PUT", "PATCH") else b""
    query = urlencode(params, quote_via=quote)
    return Request(http["method"], path, query, headers, data, op.signing_name, f"rest {op.model.name}")


def _query_request(op: Operation, value: Any, rng: random.Random, host: str) -> Request:
    form = [("Action", op.model.name), ("Version", op.model.metadata["apiVersion"])]
    _flatten(op.model.input_shape, value, "", form)
    if rng.random() < 0.1:
        form = [(k, v) for k, v in form if k != "Action" or rng.random() < 0.5] + [("Action", rng.choice(
            ["", "NoSuchThing", op.model.name.lower(), "A" * 300]))]
    headers = {"Host": host, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    body = "&".join(f"{quote(_form_text(k), safe='')}={quote(_form_text(v), safe='')}" for k, v in form).encode()
    if rng.random() < 0.05:
        body += rng.choice([b"&%zz=1", b"&\xff=\xfe", b"&=&&", b"&Tags.member.999999.Key=a"])
    return Request("POST", "/", "", headers, body, op.signing_name, f"query {op.model.name}")


def _form_text(value: Any) -> str:
    text = value if isinstance(value, str) else _json_bytes(value).decode() if isinstance(value, dict | list) \
        else str(value)
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _flatten(shape: Shape | None, value: Any, prefix: str, form: list[tuple[str, Any]]) -> None:
    """Query-protocol names for a value: `A.B`, `L.member.N`, `M.entry.N.key`; a value of the wrong kind as text."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for name, item in value.items():
            member = shape.members.get(name) if isinstance(name, str) else None
            key = f"{prefix}{member.serialization.get('name', name) if member else name}"
            _flatten(member, item, key + ".", form) if member is not None and isinstance(
                member, StructureShape) else _flatten(member, item, key, form)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for i, item in enumerate(value[:200], 1):
            _flatten(shape.member, item, f"{prefix}.member.{i}", form)
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for i, (key, item) in enumerate(list(value.items())[:200], 1):
            form.append((f"{prefix}.entry.{i}.key", key))
            _flatten(shape.value, item, f"{prefix}.entry.{i}.value", form)
    elif value is not None:
        form.append((prefix.rstrip("."), value))
