"""The console's ASGI app, built on its first request from the server's System (session key from the data dir)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from cronbridge.api import intake
from cronbridge.web import auth, live, pages
from cronbridge.web.sessions import Sessions, signing_key

if TYPE_CHECKING:
    from cronbridge.system import System

STATIC = Path(__file__).parent / "static"
SESSION_HOURS = 12


def build(system: System) -> Starlette:
    secret = signing_key(system.db, system.settings.data_dir)
    app = Starlette(
        routes=[*auth.routes(), *pages.routes(), *live.routes(), Mount("/static", StaticFiles(directory=STATIC))],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie="cronbridge_console",
                max_age=SESSION_HOURS * 3600,
                same_site="strict",
                path="/console",
            )
        ],
        exception_handlers={
            auth.SignInRequired: auth.to_sign_in,
            auth.PageDenied: auth.to_denied,
            ClientDisconnect: intake.hung_up,  # a form cut off mid-body: nobody to answer, nothing to log
        },
    )
    app.state.system = system
    app.state.sessions = Sessions(system.docs, system.clock, system.home, SESSION_HOURS)
    return app


class ConsoleApp:
    """Mounted at /console; takes the System from the outer app on the first request."""

    def __init__(self) -> None:
        self.inner: Starlette | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.inner is None:
            self.inner = build(scope["app"].state.system)
        await self.inner(scope, receive, send)
