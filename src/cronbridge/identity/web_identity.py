"""Web identity tokens (OIDC JWTs) checked as STS checks them for AssumeRoleWithWebIdentity, offline.

Pure: the caller passes the token, the account's OIDC providers (with the signing keys configured on each, a
JWKS document) and the time. STS's order: a JWT at all, a provider for its issuer, a key that verifies its
signature, not expired, an audience the provider lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from cronbridge.errors import AwsError

NOT_A_JWT = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
NO_KEY = (
    "Couldn't retrieve verification key from your identity provider,  please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)
SIGNED_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")


class InvalidIdentityToken(AwsError):
    """STS: the web identity token could not be validated."""

    code = "InvalidIdentityToken"
    status = 400


class ExpiredWebIdentityToken(AwsError):
    """STS: the web identity token has expired."""

    code = "ExpiredTokenException"
    status = 400


@dataclass(frozen=True)
class OidcProvider:
    """An IAM OpenID Connect provider: its issuer URL (without https://), audiences, and the keys set on it."""

    arn: str
    url: str
    client_ids: tuple[str, ...] = ()
    thumbprints: tuple[str, ...] = ()
    created_at: float = 0.0
    tags: Mapping[str, str] = field(default_factory=dict)
    jwks: Mapping[str, Any] | None = None  # {"keys": [JWK, ...]}: cronbridge's, for checking signatures offline


@dataclass(frozen=True)
class WebIdentity:
    """A verified token: its provider, claims, subject and the audience STS matched."""

    provider: OidcProvider
    claims: Mapping[str, Any]
    audience: str

    @property
    def subject(self) -> str:
        return str(self.claims.get("sub", ""))

    @property
    def issuer(self) -> str:
        return str(self.claims.get("iss", ""))

    def condition_keys(self) -> dict[str, str | list[str]]:
        """The keys a trust policy can test: `URL:aud`, `URL:sub`, `URL:oaud`, `URL:amr`, aws:FederatedProvider."""
        url = self.provider.url
        keys: dict[str, str | list[str]] = {
            f"{url}:aud": str(self.claims.get("azp") or self.audience),
            f"{url}:oaud": self.audience,
            f"{url}:sub": self.subject,
            "aws:FederatedProvider": self.provider.arn,
        }
        amr = self.claims.get("amr")
        if isinstance(amr, list):
            keys[f"{url}:amr"] = [str(a) for a in amr]
        elif isinstance(amr, str):
            keys[f"{url}:amr"] = amr
        return keys


def provider_url(issuer: str) -> str:
    """The form IAM keeps a provider's URL in (and names it by): no scheme, no trailing slash."""
    url = issuer.strip()
    for scheme in ("https://", "http://"):
        if url.lower().startswith(scheme):
            url = url[len(scheme):]
    return url.rstrip("/")


def verify(token: str, find: Callable[[str], OidcProvider | None], now: float) -> WebIdentity:
    """The token's identity, or STS's refusal: InvalidIdentityToken or ExpiredTokenException."""
    header, claims = _unverified(token)
    issuer = claims.get("iss")
    provider = find(provider_url(issuer)) if isinstance(issuer, str) and issuer else None
    if provider is None:
        raise InvalidIdentityToken(f"No OpenIDConnect provider found in your account for {issuer}")
    _check_signature(token, header, provider)
    _check_time(claims, now)
    return WebIdentity(provider, claims, _audience(claims, provider))


def _unverified(token: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidIdentityToken(NOT_A_JWT) from None
    if not isinstance(claims, dict) or not isinstance(header, dict):
        raise InvalidIdentityToken(NOT_A_JWT)
    return header, claims


def _check_signature(token: str, header: Mapping[str, Any], provider: OidcProvider) -> None:
    algorithm = header.get("alg")
    if algorithm not in SIGNED_ALGORITHMS:
        raise InvalidIdentityToken(f"The web identity token is not signed with an algorithm STS accepts: {algorithm}")
    key = _signing_key(header, provider)
    try:
        jwt.decode(token, key, algorithms=[str(algorithm)],
                   options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                            "verify_iss": False})
    except jwt.InvalidSignatureError:
        raise InvalidIdentityToken(
            f"The web identity token's signature does not verify with the keys of {provider.arn}") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidIdentityToken(NOT_A_JWT) from None


def _signing_key(header: Mapping[str, Any], provider: OidcProvider) -> Any:
    """The provider's key for the token's `kid` (or its only key, for a token without one)."""
    try:
        keys = jwt.PyJWKSet.from_dict(dict(provider.jwks or {"keys": []})).keys
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        keys = []
    kid = header.get("kid")
    chosen = [k for k in keys if k.key_id == kid] if kid is not None else keys[:1] if len(keys) == 1 else []
    if not chosen:
        raise InvalidIdentityToken(NO_KEY)
    return chosen[0].key


def _check_time(claims: Mapping[str, Any], now: float) -> None:
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise InvalidIdentityToken("The web identity token has no expiration time (exp)")
    if now >= expires:
        raise ExpiredWebIdentityToken(
            f"Token expired: current date/time {int(now)} must be before the expiration date/time {int(expires)}")


def _audience(claims: Mapping[str, Any], provider: OidcProvider) -> str:
    audiences = claims.get("aud")
    listed = [audiences] if isinstance(audiences, str) else audiences if isinstance(audiences, list) else []
    for audience in listed:
        if audience in provider.client_ids:
            return str(audience)
    raise InvalidIdentityToken("Incorrect token audience")


def jwks_document(text_or_value: str | Mapping[str, Any]) -> dict[str, Any]:
    """A JWKS document (`{"keys": [...]}`, or one JWK) checked to hold public keys PyJWT can use; ValueError."""
    try:
        value = json.loads(text_or_value) if isinstance(text_or_value, str) else dict(text_or_value)
        document = value if "keys" in value else {"keys": [value]}
        keys = jwt.PyJWKSet.from_dict(document).keys
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(str(exc) or "not a JWKS document") from None
    if any(getattr(k.key, "private_numbers", None) is not None for k in keys):
        raise ValueError("a JWKS for checking signatures holds public keys only")
    return document
