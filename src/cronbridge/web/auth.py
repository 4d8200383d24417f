"""Signing in with an access key (checked against the identity store when there is one), sessions, CSRF."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cronbridge.web.render import page

if TYPE_CHECKING:
    from cronbridge.system import System

SECRET_FILE = "console-secret"


class SignInRequired(Exception):
    """Raised by a page when nobody is signed in: the user is sent to the sign-in page."""


def session_secret(data_dir: Path) -> str:
    """This installation's session-signing key: made once, kept in the data folder (mode 600)."""
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def check_key(system: System, key_id: str, secret: str) -> str | None:
    """None when the key may sign in; else why not. Open mode (or no identity store): any key."""
    if not key_id or not secret:
        return "Enter an access key ID and its secret access key."
    identity = getattr(system, "identity", None)
    if identity is None or getattr(system.settings, "auth", "open") == "open":
        return None
    record = identity.lookup_key(key_id)
    if record is None or not hmac.compare_digest(str(record.secret_access_key), secret):
        return "The access key ID or the secret access key is not valid."
    if not getattr(record, "active", True):
        return "This access key is inactive."
    expires = getattr(record, "expires_at", None)
    if expires is not None and expires <= system.clock.now():
        return "These temporary credentials have expired."
    return None


def refusal(request: Request, action: str, resources: list[str]) -> str | None:
    """AWS's refusal message when the signed-in key's principal may not do `action` on every resource; None when it
    may, in open mode, or on a server that does not enforce IAM (no identity store or no authorizer)."""
    system = request.app.state.system
    identity, authorizer = getattr(system, "identity", None), getattr(system, "authorizer", None)
    if identity is None or authorizer is None or not getattr(authorizer, "enforcing", False):
        return None
    principal = identity.principal_of_key(signed_in(request))
    if principal is None:
        return "The signed-in access key is no longer valid; sign in again."
    message: str | None = authorizer.first_refusal(principal, action, resources, {})
    return message


def signed_in(request: Request) -> str:
    """The signed-in access key id; SignInRequired when there is none."""
    key = request.session.get("key")
    if not key:
        raise SignInRequired()
    return str(key)


async def to_sign_in(request: Request, exc: Exception) -> Response:
    """To the sign-in page, and back to the page afterwards (an action's form is not replayed: its page instead)."""
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        target = "/console/schedules"
    return RedirectResponse(f"/console/signin?next={quote(target)}", 303)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


async def form(request: Request) -> dict[str, str]:
    """The posted form (urlencoded), after checking its CSRF token against the session's."""
    body = (await request.body()).decode("utf-8", "replace")
    fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    expected = request.session.get("csrf")
    if not expected or not hmac.compare_digest(str(expected), fields.get("csrf", "")):
        raise HTTPException(403, "The form's CSRF token is missing or wrong; reload the page and try again.")
    return fields


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/console/") and not value.startswith("//") else "/console/schedules"


async def signin_page(request: Request) -> Response:
    context: dict[str, Any] = {"next": _safe_next(request.query_params.get("next")), "error": None}
    return page(request, "signin.html", context)


async def signin(request: Request) -> Response:
    fields = await form(request)
    key, secret = fields.get("access_key_id", "").strip(), fields.get("secret_access_key", "")
    problem = check_key(request.app.state.system, key, secret)
    if problem:
        context = {"next": _safe_next(fields.get("next")), "error": problem, "key": key}
        return page(request, "signin.html", context, status=401)
    request.session["key"] = key
    request.session["csrf"] = secrets.token_urlsafe(32)  # a fresh token for the new session
    return RedirectResponse(_safe_next(fields.get("next")), 303)


async def signout(request: Request) -> Response:
    await form(request)
    request.session.clear()
    return RedirectResponse("/console/signin", 303)


def routes() -> list[Route]:
    return [
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
    ]
