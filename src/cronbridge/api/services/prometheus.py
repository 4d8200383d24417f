"""GET /metrics: the Prometheus text format of cronbridge's invocations, tasks and launch lateness."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cronbridge.metrics.prometheus import exposition

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def metrics(request: Request) -> Response:
    system = request.app.state.system
    return PlainTextResponse(exposition(system.db, system.launcher.name), media_type=CONTENT_TYPE)


def routes() -> list[Any]:
    return [Route("/metrics", metrics, methods=["GET"])]
