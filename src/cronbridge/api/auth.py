"""Who is calling: every AWS request's SigV4 signature checked against the identity store, in one place."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from cronbridge.api import sigv4
from cronbridge.identity.model import KeyRecord, Principal

if TYPE_CHECKING:
    from cronbridge.system import System


@dataclass(frozen=True)
class Authenticated:
    """The verified caller: its principal, the key it signed with (None in open mode) and the signing scope."""

    principal: Principal
    key: KeyRecord | None
    caller: sigv4.Caller | None


def authenticate(system: System, request: Request, body: bytes) -> Authenticated:
    """Verify the request's signature (enforce mode) or only its form (open mode); SigV4Error otherwise."""
    headers = sigv4.join_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw)
    query = request.scope.get("query_string", b"").decode("latin-1")
    if system.settings.auth == "open":
        sigv4.read_signature(query, headers)  # still refuse a request with no or a broken Authorization
        return Authenticated(system.identity.admin(), None, None)
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    wall = time.time()
    caller = sigv4.verify(
        request.method,
        raw_path.decode("latin-1"),
        query,
        headers,
        body,
        lookup_secret=lambda key_id: _credential(system, key_id, wall),
        now=wall,
        max_skew=system.settings.signature_skew,
    )
    key = system.identity.lookup_key(caller.access_key_id)
    principal = system.identity.principal_of_key(caller.access_key_id)
    if key is None or principal is None:
        raise sigv4.SigV4Error("unknown_key", "The security token included in the request is invalid")
    return Authenticated(principal, key, caller)


def _credential(system: System, key_id: str, wall: float) -> sigv4.Credential | None:
    """The key's secret; a session's expiry is moved onto the wall clock (the server's clock may be manual)."""
    key = system.identity.lookup_key(key_id)
    if key is None or not key.active:
        return None
    expires = None if key.expires_at is None else wall + (key.expires_at - system.clock.now())
    return sigv4.Credential(key.secret_access_key, key.session_token, expires)
