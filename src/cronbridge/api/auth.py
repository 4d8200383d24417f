"""Who is calling: every AWS request's SigV4 signature checked against the identity store, in one place."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from cronbridge.api import sigv4
from cronbridge.identity.model import KeyRecord, Principal
from cronbridge.store.faults import disk_full

if TYPE_CHECKING:
    from cronbridge.system import System


@dataclass(frozen=True)
class Authenticated:
    """The verified caller: its principal, the key it signed with (in open mode: None unless cronbridge issued it)
    and the signing scope."""

    principal: Principal
    key: KeyRecord | None
    caller: sigv4.Caller | None


def authenticate(system: System, request: Request, body: bytes, service: str | None) -> Authenticated:
    """Verify the request's signature, scoped to `service` when known (enforce mode), or only its form (open mode);
    SigV4Error otherwise."""
    headers = sigv4.join_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw)
    query = request.scope.get("query_string", b"").decode("latin-1")
    if system.settings.auth == "open":
        signed = sigv4.read_signature(query, headers)  # still refuse a request with no or a broken Authorization
        if service is not None:
            sigv4.check_service(signed, service)
        return _open_caller(system, signed)
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
        service=service,
    )
    key = system.identity.lookup_key(caller.access_key_id)
    principal = system.identity.principal_of_key(caller.access_key_id)
    if key is None or principal is None:
        raise sigv4.SigV4Error("unknown_key", "The security token included in the request is invalid")
    if not key.temporary:
        _note_use(system, key.access_key_id, caller)
    return Authenticated(principal, key, caller)


def _open_caller(system: System, signed: sigv4.Signed) -> Authenticated:
    """Open mode: a key cronbridge issued names its user or role session (GetCallerIdentity and STS answer for it;
    nothing is enforced; its use is noted), any other key acts as the administrator."""
    key_id = signed.access_key_id
    key = system.identity.lookup_key(key_id)
    principal = system.identity.principal_of_key(key_id) if key is not None else None
    if key is None or principal is None:
        return Authenticated(system.identity.admin(), None, None)
    if not key.temporary:
        _note_use(system, key.access_key_id, sigv4.Caller(key_id, signed.region, signed.service))
    return Authenticated(principal, key, None)


def _note_use(system: System, key_id: str, caller: sigv4.Caller) -> None:
    """Remember the key's use (GetAccessKeyLastUsed); a full disk does not refuse the call it would only note."""
    try:
        system.identity.note_key_use(key_id, caller.service, caller.region)
    except Exception as exc:
        if not disk_full(exc):
            raise


UNSIGNED_STS = frozenset({"AssumeRoleWithWebIdentity"})  # STS answers these without an AWS signature


def unsigned_sts_action(request: Request, body: bytes) -> bool:
    """Whether this is an STS call AWS accepts unsigned (AssumeRoleWithWebIdentity): no signature at all, and that
    action in the form. Such a call has no caller; the role's trust policy decides."""
    if "authorization" in request.headers or "X-Amz-Signature" in request.query_params:
        return False
    from urllib.parse import parse_qs

    form = parse_qs(body.decode("utf-8", "replace")) if body else {}
    action = (form.get("Action") or [request.query_params.get("Action", "")])[0]
    return action in UNSIGNED_STS


def _credential(system: System, key_id: str, wall: float) -> sigv4.Credential | None:
    """The key's secret; a session's expiry is moved onto the wall clock (the server's clock may be manual)."""
    key = system.identity.lookup_key(key_id)
    if key is None or not key.active:
        return None
    expires = None if key.expires_at is None else wall + (key.expires_at - system.clock.now())
    return sigv4.Credential(key.secret_access_key, key.session_token, expires)
