"""Smithy RPC v2 CBOR: POST /service/{target prefix}/operation/{name}, CBOR bodies, as boto3 speaks to CloudWatch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import cbor2

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols import json as json_protocol
from cronbridge.api.protocols.json import JsonService
from cronbridge.errors import AwsError

CONTENT_TYPE = "application/cbor"
HEADERS = {"smithy-protocol": "rpc-v2-cbor"}


def parse_path(path: str) -> tuple[str, str] | None:
    """(service, operation) from '/service/S/operation/O', else None."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "service" and parts[2] == "operation":
        return parts[1], parts[3]
    return None


def _plain(value: Any) -> Any:
    """CBOR-decoded input with timestamps (tag 1 → datetime) as epoch seconds, as the JSON validator expects."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def decode(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = cbor2.loads(body)
    except (cbor2.CBORDecodeError, ValueError, TypeError) as exc:
        raise AwsError(f"Malformed CBOR: {exc}", "SerializationException") from exc
    except RecursionError:
        raise AwsError("The request nests maps or arrays too deep.", "SerializationException") from None
    if not isinstance(value, dict):
        raise AwsError("The request body must be a CBOR map.", "SerializationException")
    json_protocol.check_value(value)
    return {str(k): _plain(v) for k, v in value.items()}


def encode(value: Any) -> bytes:
    return cbor2.dumps(value, datetime_as_timestamp=True, timezone=UTC)


def dispatch(service: JsonService, action: str, body: bytes, ctx: RequestContext) -> dict[str, Any]:
    """Validate against the model and run one operation; AwsError for anything the client got wrong."""
    return json_protocol.run(service, action, body, _members, ctx)


def _members(body: bytes) -> dict[str, Any]:
    return json_protocol.without_nulls(decode(body))


def error_body(err: AwsError) -> bytes:
    return encode({"__type": err.code, "message": err.message})
