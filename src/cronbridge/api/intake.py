"""What a request brings in, bounded before any work: which service and operation it is addressed to, its body read
within that operation's size limit (refused by its Content-Length before a byte is read), and a gzip body inflated
as a stream within a cap, only once its signature has been checked."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from cronbridge.api import sigv4
from cronbridge.api.auth import Authenticated, authenticate
from cronbridge.api.context import signing_scope
from cronbridge.api.protocols import rest_json
from cronbridge.api.protocols.shapes import service_model
from cronbridge.errors import AwsError

if TYPE_CHECKING:
    from cronbridge.system import System

KIB, MIB = 1 << 10, 1 << 20
DEFAULT_LIMIT = 1 * MIB  # beyond any AWS request but the bulk ones below (task definitions stop at 64 KiB)
QUERY_SERVICES = frozenset({"iam", "sts"})
QUERY_LIMIT = 256 * KIB  # IAM's and STS's largest calls (policy documents of 10,240 characters) form-encoded
# (signing name, operation) -> (largest body on the wire, largest once inflated): the payload AWS accepts, with
# room for JSON's escapes (a control character is six bytes on the wire)
LIMITS: dict[tuple[str, str], tuple[int, int]] = {
    ("logs", "PutLogEvents"): (8 * MIB, 8 * MIB),  # 1 MiB of events plus 26 bytes each
    ("monitoring", "PutMetricData"): (1 * MIB + 64 * KIB, 8 * MIB),  # AWS: 1 MB per POST, gzip allowed
    ("sqs", "SendMessage"): (8 * MIB, 8 * MIB),  # messages up to 1 MiB
    ("sqs", "SendMessageBatch"): (8 * MIB, 8 * MIB),
    ("events", "PutEvents"): (2 * MIB, 2 * MIB),  # 256 KB of entries
}
LARGEST = max(DEFAULT_LIMIT, QUERY_LIMIT, *(wire for wire, _ in LIMITS.values()))  # no route reads a larger body


class Disconnected(Exception):
    """The client went away before its body arrived: nobody is left to answer (control flow, not an error)."""


@dataclass(frozen=True)
class Addressed:
    """The service (by SigV4 signing name) and operation a request names before its body is read; None: unknown."""

    signing_name: str | None
    operation: str | None

    def limits(self) -> tuple[int, int]:
        """(largest body on the wire, largest once inflated) for this operation."""
        default = QUERY_LIMIT if self.signing_name in QUERY_SERVICES else DEFAULT_LIMIT
        return LIMITS.get((self.signing_name or "", self.operation or ""), (default, default))


def address(
    request: Request, target: str | None, cbor_route: tuple[str, str] | None, is_cbor: bool,
    rest: rest_json.RestJsonService | None,
) -> Addressed:
    """Whom the request is for, from its headers and path alone (the query protocol names its action in the body)."""
    from cronbridge.api.services import registry

    json_like = (target.rpartition(".")[0], target.rpartition(".")[2]) if target else cbor_route if is_cbor else None
    if json_like is not None:
        service = registry.json_services().get(json_like[0])
        return Addressed(service_model(service.model).signing_name if service else None, json_like[1])
    if rest is not None:
        raw = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        found = rest_json.match(rest.model, request.method, raw)
        return Addressed(rest.signing_name, found[0] if found else None)
    return Addressed(signing_scope(request)[2], None)


async def admit(system: System, request: Request, addressed: Addressed) -> tuple[bytes, Authenticated]:
    """The body and its verified signer: the signature's form, the size, the signature, then gzip inflated."""
    check_signature_form(request)
    wire, inflated = addressed.limits()
    body = await read_body(request, wire)
    who = authenticate(system, request, body, addressed.signing_name)
    return inflate(request, body, inflated), who


async def hung_up(request: Request, exc: Exception) -> Response:
    """The answer to a request whose client went away mid-body (as an exception handler): no traceback logged."""
    return Response(status_code=400)


def too_large(size: int, limit: int) -> AwsError:
    error = AwsError(f"Request size {size} exceeded {limit} bytes", "RequestEntityTooLargeException", 413)
    error.query_code = "RequestEntityTooLarge"
    return error


def unsigned(request: Request) -> bool:
    """Whether the request carries no signature at all (no Authorization header, no presigned X-Amz-Signature)."""
    return "authorization" not in request.headers and "X-Amz-Signature" not in request.query_params


def check_signature_form(request: Request) -> None:
    """SigV4Error for a request with no signature, or one that cannot be read, before its body is read."""
    headers = sigv4.join_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw)
    sigv4.read_signature(request.scope.get("query_string", b"").decode("latin-1"), headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read as it streams in; 413 as soon as it (or its declared length) passes `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared), limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large(len(body), limit)
    except ClientDisconnect:
        raise Disconnected() from None
    return bytes(body)


def inflate(request: Request, body: bytes, cap: int) -> bytes:
    """The body as sent, or gunzipped when Content-Encoding says gzip: a stream never inflated past `cap`."""
    if request.headers.get("content-encoding", "").strip().lower() != "gzip":
        return body
    if not body.startswith(b"\x1f\x8b"):
        raise AwsError("The body is not valid gzip.", "SerializationException")
    out = bytearray()
    rest = body
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(rest, cap + 1 - len(out))
        except zlib.error:
            raise AwsError("The body is not valid gzip.", "SerializationException") from None
        if len(out) > cap or inflater.unconsumed_tail:
            raise too_large(len(out) + len(inflater.unconsumed_tail), cap)
        if not inflater.eof:
            raise AwsError("The body is not valid gzip: it ends early.", "SerializationException")
        rest = inflater.unused_data  # gzip allows members one after another
    return bytes(out)
