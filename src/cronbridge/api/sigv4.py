"""SigV4 verification, pure: a request's parts and a key lookup in, the caller or an error out."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import quote, unquote

from cronbridge.errors import AwsError

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOADS = frozenset(  # S3's alone: every other service hashes the body it received
    {"UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}
)
MAX_PRESIGNED_EXPIRES = 604_800  # a week, as AWS allows
_AMZ_FORMAT = "%Y%m%dT%H%M%SZ"

Kind = Literal["missing", "incomplete", "unknown_key", "bad_signature", "expired", "expired_token", "wrong_service"]
Protocol = Literal["json", "query"]

_INVALID_TOKEN = "The security token included in the request is invalid"
_EXPIRED_TOKEN = "The security token included in the request is expired"
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)

# kind -> ((json code, status), (query code, status)), as AWS answers each protocol.
_CODES: dict[str, tuple[tuple[str, int], tuple[str, int]]] = {
    "missing": (("MissingAuthenticationTokenException", 400), ("MissingAuthenticationToken", 403)),
    "incomplete": (("IncompleteSignatureException", 400), ("IncompleteSignature", 400)),
    "unknown_key": (("UnrecognizedClientException", 400), ("InvalidClientTokenId", 403)),
    "bad_signature": (("InvalidSignatureException", 400), ("SignatureDoesNotMatch", 403)),
    "expired": (("InvalidSignatureException", 400), ("SignatureDoesNotMatch", 403)),
    "expired_token": (("ExpiredTokenException", 400), ("ExpiredToken", 403)),
    "wrong_service": (("InvalidSignatureException", 400), ("SignatureDoesNotMatch", 403)),
}


def error_code(kind: str, protocol: Protocol) -> tuple[str, int]:
    """The AWS error code and HTTP status for a failure `kind` under a wire `protocol`."""
    json_code, query_code = _CODES[kind]
    return json_code if protocol == "json" else query_code


class SigV4Error(AwsError):
    """A request that failed authentication; `kind` says how, `error_code` maps it per protocol."""

    def __init__(self, kind: Kind, message: str) -> None:
        code, status = error_code(kind, "json")
        super().__init__(message, code, status)
        self.kind: Kind = kind

    def for_protocol(self, protocol: Protocol) -> AwsError:
        """The same failure as AWS words it for `protocol` (JSON adds a trailing period)."""
        code, status = error_code(self.kind, protocol)
        message = self.message
        if protocol == "json" and self.kind in ("unknown_key", "expired_token"):
            message += "."
        return AwsError(message, code, status)


@dataclass(frozen=True)
class Credential:
    """A secret key, plus the session token and expiry when it is temporary (STS) credentials."""

    secret_access_key: str
    session_token: str | None = None
    expires_at: float | None = None


@dataclass(frozen=True)
class Caller:
    """Who signed the request, and the scope they signed it for."""

    access_key_id: str
    region: str
    service: str
    session_token: str | None = None
    signed_at: float = 0.0


@dataclass(frozen=True)
class Signed:
    """The signature parameters of a request, from its Authorization header or query string."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    token: str | None
    presigned: bool = False
    expires: int | None = None


def verify(
    method: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    lookup_secret: Callable[[str], Credential | None],
    now: float,
    max_skew: float = 300,
    service: str | None = None,
) -> Caller:
    """Check a request's SigV4 signature (scoped to `service`, when given); the caller, or SigV4Error."""
    lowered = {name.lower(): value for name, value in headers.items()}
    signed = read_signature(query, lowered)
    signed_at = _check_time(signed, now, max_skew)
    if service is not None:
        check_service(signed, service)
    credential = lookup_secret(signed.access_key_id)
    if credential is None or credential.session_token != signed.token:
        raise SigV4Error("unknown_key", _INVALID_TOKEN)
    if credential.expires_at is not None and credential.expires_at <= now:
        raise SigV4Error("expired_token", _EXPIRED_TOKEN)
    canonical = canonical_request(method, raw_path, _signed_query(query, signed), lowered,
                                  signed.signed_headers, _payload_hash(lowered, body, signed))
    to_sign = string_to_sign(signed.amz_date, _scope(signed), canonical)
    expected = signature(credential.secret_access_key, signed.date, signed.region,
                         signed.service, to_sign)
    if not hmac.compare_digest(expected, signed.signature):
        raise SigV4Error("bad_signature", _mismatch_message(canonical, to_sign))
    return Caller(signed.access_key_id, signed.region, signed.service, signed.token, signed_at)


def sign(
    method: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    service: str,
    amz_date: str,
) -> str:
    """The Authorization header value signing every header given (for tests and tools)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    names = tuple(sorted(lowered))
    payload = lowered.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = canonical_request(method, raw_path, query, lowered, names, payload)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = string_to_sign(amz_date, scope, canonical)
    sig = signature(secret_access_key, amz_date[:8], region, service, to_sign)
    return (f"{ALGORITHM} Credential={access_key_id}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={sig}")


def check_service(signed: Signed, service: str) -> None:
    """SigV4Error unless the credential scope names the service the request is addressed to."""
    if signed.service != service:
        raise SigV4Error("wrong_service", f"Credential should be scoped to correct service: '{service}'. ")


def read_signature(query: str, headers: Mapping[str, str]) -> Signed:
    """The signature parameters, from the Authorization header or a presigned query string."""
    authorization = headers.get("authorization", "")
    if authorization:
        return _from_header(authorization, headers)
    params = dict(_query_pairs(query))
    if "X-Amz-Algorithm" in params:
        return _from_query(params)
    raise SigV4Error("missing", "Request is missing Authentication Token")


def _from_header(authorization: str, headers: Mapping[str, str]) -> Signed:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SigV4Error("incomplete", f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields = _auth_fields(rest)
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in fields]
    if missing:
        raise SigV4Error("incomplete", " ".join(
            f"Authorization header requires '{name}' parameter." for name in missing))
    amz_date = _request_date(headers)
    return _signed(fields["Credential"], fields["SignedHeaders"], fields["Signature"], amz_date,
                   headers.get("x-amz-security-token"))


def _from_query(params: Mapping[str, str]) -> Signed:
    if params["X-Amz-Algorithm"] != ALGORITHM:
        algorithm = params["X-Amz-Algorithm"]
        raise SigV4Error("incomplete", f"Unsupported AWS 'algorithm': '{algorithm}'")
    needed = ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date")
    missing = [name for name in needed if name not in params]
    if missing:
        raise SigV4Error("incomplete", " ".join(
            f"AWS query-string parameters must include '{name}'." for name in missing))
    base = _signed(params["X-Amz-Credential"], params["X-Amz-SignedHeaders"],
                   params["X-Amz-Signature"], params["X-Amz-Date"],
                   params.get("X-Amz-Security-Token"))
    return Signed(**{**base.__dict__, "presigned": True, "expires": _expires(params.get("X-Amz-Expires"))})


def _expires(text: str | None) -> int | None:
    """A presigned URL's lifetime in seconds (None: not given), within AWS's bounds."""
    if text is None:
        return None
    try:
        seconds = int(text)
    except ValueError:
        raise SigV4Error("incomplete", "X-Amz-Expires should be a number") from None
    if seconds < 0:
        raise SigV4Error("incomplete", "X-Amz-Expires must be non-negative")
    if seconds > MAX_PRESIGNED_EXPIRES:
        raise SigV4Error("incomplete", "X-Amz-Expires must be less than a week (in seconds) that is 604800")
    return seconds


def _signed(credential: str, signed_headers: str, sig: str, amz_date: str,
            token: str | None) -> Signed:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SigV4Error("incomplete", f"Credential should be scoped to a valid region, "
                                       f"not '{parts[2] if len(parts) > 2 else ''}'. ")
    names = tuple(name.strip().lower() for name in signed_headers.split(";") if name.strip())
    if "host" not in names:
        raise SigV4Error("incomplete", "'Host' or ':authority' must be a 'SignedHeader' "
                                       "in the AWS Authorization.")
    if parts[1] != amz_date[:8]:
        raise SigV4Error("bad_signature", "Date in Credential scope does not match YYYYMMDD from "
                         f"ISO-8601 version of date from HTTP: '{parts[1]}' != '{amz_date[:8]}', "
                         f"from '{amz_date}'.")
    return Signed(parts[0], parts[1], parts[2], parts[3], names, sig.strip(), amz_date, token)


def _auth_fields(rest: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, value = item.strip().partition("=")
        if eq:
            fields[name.strip()] = value.strip()
    return fields


def _request_date(headers: Mapping[str, str]) -> str:
    """The signing timestamp in ISO-8601 basic form, from X-Amz-Date or else Date."""
    if "x-amz-date" in headers:
        return headers["x-amz-date"].strip()
    if "date" in headers:
        try:
            return parsedate_to_datetime(headers["date"]).astimezone(UTC).strftime(_AMZ_FORMAT)
        except (TypeError, ValueError):
            pass
    raise SigV4Error("incomplete", "Authorization header requires existence of either a "
                                   "'X-Amz-Date' or a 'Date' header.")


def _check_time(signed: Signed, now: float, max_skew: float) -> float:
    """The signing instant; SigV4Error when it lies outside the window around `now`."""
    try:
        when = datetime.strptime(signed.amz_date, _AMZ_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise SigV4Error("incomplete", f"Date must be in ISO-8601 'basic format'. Got "
                                       f"'{signed.amz_date}'.") from None
    minutes = f"{max_skew / 60:g} min."
    if signed.presigned and signed.expires is not None:
        if now > when + signed.expires:
            raise SigV4Error("expired", "Signature expired: " + _stamp(when + signed.expires)
                             + " is now earlier than " + _stamp(now) + ".")
    elif when < now - max_skew:
        raise SigV4Error("expired", f"Signature expired: {_stamp(when)} is now earlier than "
                                    f"{_stamp(now - max_skew)} ({_stamp(now)} - {minutes})")
    if when > now + max_skew:
        raise SigV4Error("expired", f"Signature not yet current: {_stamp(when)} is still later "
                                    f"than {_stamp(now + max_skew)} ({_stamp(now)} + {minutes})")
    return when


def _stamp(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime(_AMZ_FORMAT)


def _scope(signed: Signed) -> str:
    return f"{signed.date}/{signed.region}/{signed.service}/aws4_request"


def _payload_hash(headers: Mapping[str, str], body: bytes, signed: Signed) -> str:
    """The payload line of the canonical request: the body's own hash (S3 alone may leave the payload unsigned)."""
    declared = headers.get("x-amz-content-sha256")
    actual = hashlib.sha256(body).hexdigest()
    if signed.service == "s3" and (declared in UNSIGNED_PAYLOADS or (declared is None and signed.presigned)):
        return declared or "UNSIGNED-PAYLOAD"
    if declared is not None and declared != actual:
        raise SigV4Error("bad_signature", "The provided 'x-amz-content-sha256' header does not "
                                          "match what was computed.")
    return actual


def _signed_query(query: str, signed: Signed) -> str:
    """The query string that was signed: a presigned URL's own signature is left out."""
    if not signed.presigned:
        return query
    return "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Signature="))


def canonical_request(method: str, raw_path: str, query: str, headers: Mapping[str, str],
                      signed_headers: Iterable[str], payload_hash: str) -> str:
    """SigV4's canonical request: method, path, query, headers, signed names, payload hash."""
    names = sorted(signed_headers)
    header_lines = "".join(f"{name}:{_trim(headers.get(name, ''))}\n" for name in names)
    return "\n".join([method.upper(), canonical_path(raw_path), canonical_query(query),
                      header_lines, ";".join(names), payload_hash])


def canonical_path(raw_path: str) -> str:
    """The path with dot segments and repeated slashes removed, each segment URI-encoded."""
    segments = [s for s in raw_path.split("/") if s and s != "."]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        else:
            kept.append(segment)
    path = "/" + "/".join(kept)
    if raw_path.endswith("/") and kept:
        path += "/"
    return quote(path, safe="/~")


def canonical_query(query: str) -> str:
    """Query parameters decoded, re-encoded as SigV4 says (RFC 3986 unreserved kept) and sorted."""
    pairs = [(_encode(name), _encode(value)) for name, value in _query_pairs(query)]
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in query.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _trim(value: str) -> str:
    return " ".join(value.split())


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    """The string whose HMAC is the signature."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC chain over date, region, service and 'aws4_request'."""
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def signature(secret: str, date: str, region: str, service: str, to_sign: str) -> str:
    """The hex signature of `to_sign` under the derived key."""
    key = signing_key(secret, date, region, service)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _mismatch_message(canonical: str, to_sign: str) -> str:
    return (f"{_BAD_SIGNATURE}\n\nThe Canonical String for this request should have been\n"
            f"'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n")


def join_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as one lowercased mapping, repeated names joined by commas as SigV4 expects."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        joined[key] = f"{joined[key]},{_trim(value)}" if key in joined else _trim(value)
    return joined
