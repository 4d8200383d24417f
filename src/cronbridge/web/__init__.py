"""The web console under /console: server-rendered pages (Jinja2), a little vanilla JS for live updates."""

from __future__ import annotations

from starlette.routing import Mount

from cronbridge.web.app import ConsoleApp


def routes() -> list[Mount]:
    return [Mount("/console", app=ConsoleApp(), name="console")]
