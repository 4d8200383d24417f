"""Signing in with an access key (checked against the identity store), server-side sessions, page access, CSRF."""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from cronbridge.web.access import page_needs
from cronbridge.web.region import here
from cronbridge.web.render import page
from cronbridge.web.sessions import Sessions

if TYPE_CHECKING:
    from cronbridge.system import System


class SignInRequired(Exception):
    """Raised by a page when nobody is signed in: the user is sent to the sign-in page."""


class PageDenied(Exception):
    """Raised when the signed-in principal may not read a page: it sees AWS's refusal instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_key(system: System, key_id: str, secret: str) -> str | None:
    """None when the key may sign in; else why not. Open mode: any key."""
    if not key_id or not secret:
        return "Enter an access key ID and its secret access key."
    if system.settings.auth == "open":
        return None
    record = system.identity.lookup_key(key_id)
    if record is None or not hmac.compare_digest(str(record.secret_access_key), secret):
        return "The access key ID or the secret access key is not valid."
    return key_problem(system, key_id)


def key_problem(system: System, key_id: str) -> str | None:
    """Why a signed-in key may no longer be used (deleted, deactivated, expired); None when it may. Open mode: any."""
    if system.settings.auth == "open":
        return None
    record = system.identity.lookup_key(key_id)
    if record is None:
        return "The access key ID or the secret access key is not valid."
    if not record.active:
        return "This access key is inactive."
    if record.expires_at is not None and record.expires_at <= system.clock.now():
        return "These temporary credentials have expired."
    return None


def refusal(request: Request, action: str, resources: list[str]) -> str | None:
    """AWS's refusal message when the signed-in key's principal may not do `action` on every resource; None when it
    may, or in open mode. Evaluated on every request: a policy change applies on the next page."""
    return refusal_for(request.app.state.system, signed_in(request, check_page=False), action, resources)


def refusal_for(system: System, key_id: str, action: str, resources: list[str]) -> str | None:
    """AWS's refusal message when `key_id`'s principal may not do `action` on every resource; None when it may."""
    if not system.authorizer.enforcing:
        return None
    principal = system.identity.principal_of_key(key_id)
    if principal is None:
        return "The signed-in access key is no longer valid; sign in again."
    message: str | None = system.authorizer.first_refusal(principal, action, resources, {})
    return message


def signed_in(request: Request, check_page: bool = True) -> str:
    """The signed-in access key id, after checking on the server that the session was not ended (sign-out) and
    its key is still valid; SignInRequired otherwise. A page read also needs its action (web/access.py):
    PageDenied with AWS's message when the principal may not."""
    system: System = request.app.state.system
    session_id = request.session.get("sid")
    sessions: Sessions = request.app.state.sessions
    key = sessions.key_of(str(session_id)) if session_id else None
    if key is None or key_problem(system, key) is not None:
        if session_id:
            sessions.close(str(session_id))
        request.session.clear()
        raise SignInRequired()
    if check_page and request.method in ("GET", "HEAD"):
        scope = here(request)  # the Region the page shows
        needed = page_needs(request.url.path.removeprefix(request.scope.get("root_path", "")),
                            dict(request.query_params), scope.region, scope.account)
        denied = refusal(request, *needed) if needed else None
        if denied is not None:
            raise PageDenied(denied)
    return key


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
    _forget_ended(request)
    context: dict[str, Any] = {"next": _safe_next(request.query_params.get("next")), "error": None}
    return page(request, "signin.html", context)


def _forget_ended(request: Request) -> None:
    """A cookie whose session the server ended (signed out elsewhere, a deleted key) draws no signed-in header."""
    if not request.session.get("key"):
        return
    session_id = request.session.get("sid")
    sessions: Sessions = request.app.state.sessions
    key = sessions.key_of(str(session_id)) if session_id else None
    if key is None or key_problem(request.app.state.system, key) is not None:
        request.session.clear()


async def signin(request: Request) -> Response:
    fields = await form(request)
    key, secret = fields.get("access_key_id", "").strip(), fields.get("secret_access_key", "")
    problem = check_key(request.app.state.system, key, secret)
    if problem:
        _forget_ended(request)
        context = {"next": _safe_next(fields.get("next")), "error": problem, "entered_key": key}
        return page(request, "signin.html", context)  # the form again, with why (200: not a failed load)
    request.session.clear()
    request.session["sid"] = request.app.state.sessions.open(key)
    request.session["key"] = key  # shown in the header; who is signed in is the server's session's key
    request.session["csrf"] = secrets.token_urlsafe(32)  # a fresh token for the new session
    return RedirectResponse(_safe_next(fields.get("next")), 303)


async def signout(request: Request) -> Response:
    """Ends the session on the server: a copy of the cookie kept anywhere no longer signs anyone in."""
    await form(request)
    session_id = request.session.get("sid")
    if session_id:
        request.app.state.sessions.close(str(session_id))
    request.session.clear()
    return RedirectResponse("/console/signin", 303)


async def to_denied(request: Request, exc: Exception) -> Response:
    """A page the principal may not read: AWS's refusal, 403 (JSON for the scripts' endpoints)."""
    message = exc.message if isinstance(exc, PageDenied) else str(exc)
    if "/api/" in request.url.path:
        return JSONResponse({"message": message}, 403)
    return page(request, "denied.html", {"message": message}, status=403)


def routes() -> list[Route]:
    return [
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
    ]
