"""The web console under /console: server-rendered pages (Jinja2), a little vanilla JS for live updates."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from cronbridge.web.app import ConsoleApp


async def _to_console(request: Request) -> Response:
    return RedirectResponse("/console/", 307)


def routes() -> list[BaseRoute]:
    return [
        Route("/console", _to_console, methods=["GET", "HEAD"]),
        Mount("/console", app=ConsoleApp(), name="console"),
    ]
