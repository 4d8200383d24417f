"""Our own endpoint: the signing keys (a JWKS) of an OIDC provider, so AssumeRoleWithWebIdentity checks tokens
offline (AWS fetches them from the issuer; cronbridge never reaches out)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cronbridge.api import own
from cronbridge.errors import AwsError


def _bad(message: str, code: str = "ValidationException", status: int = 400) -> Response:
    return JSONResponse({"__type": code, "message": message}, status)


@own.signed("SetOidcKeys")
async def put_keys(request: Request) -> Response:
    """PUT {provider: ARN or issuer URL, jwks: {"keys": [...]}} -> the provider with its keys set."""
    system = request.app.state.system
    try:
        payload = own.body_json(request)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("provider"), str) or "jwks" not in payload:
        return _bad('The body must be a JSON object: {"provider": ARN or URL, "jwks": {"keys": [...]}}.')
    try:
        provider = system.identity.oidc.set_keys(payload["provider"], payload["jwks"])
    except AwsError as err:
        return _bad(err.message, err.code, err.status)
    return JSONResponse({"provider": provider.arn, "url": provider.url,
                         "keyIds": [k.get("kid") for k in (provider.jwks or {}).get("keys", [])]})


@own.signed("GetOidcKeys")
async def get_keys(request: Request) -> Response:
    """GET ?provider=ARN-or-URL -> the JWKS set on the provider (null when none is)."""
    system = request.app.state.system
    name = request.query_params.get("provider", "")
    provider = system.identity.oidc.providers.get(name) or system.identity.oidc.find(name)
    if provider is None:
        return _bad(f"OpenIDConnect Provider not found for {name}", "NoSuchEntity", 404)
    return JSONResponse({"provider": provider.arn, "url": provider.url, "jwks": provider.jwks})


def routes() -> list[Route]:
    return [
        Route("/_cronbridge/oidc/keys", put_keys, methods=["PUT"]),
        Route("/_cronbridge/oidc/keys", get_keys, methods=["GET"]),
    ]
