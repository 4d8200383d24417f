"""Rendering pages: one Jinja2 environment (autoescaped) with the filters the templates use."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cronbridge.ecs.outcome import short, task_outcome
from cronbridge.overview import iso

TEMPLATES = Path(__file__).parent / "templates"


def utc(instant: float | None) -> str:
    """`2027-01-15 08:30:00` (UTC) for an epoch instant; '-' for none."""
    if instant is None:
        return "-"
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%d %H:%M:%S")


def utc_ms(millis: int | None) -> str:
    if millis is None:
        return "-"
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds")[:-6].replace("T", " ")


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    if value < 60:
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    minutes, rest = divmod(int(value), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def pretty(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, sort_keys=False, default=str)


def query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
def fromjson(text: str) -> Any:
    """A stored JSON document (an event) for a template to read fields of; {} when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return {}


ENV.filters.update(utc=utc, utc_ms=utc_ms, iso=iso, seconds=seconds, pretty=pretty, fromjson=fromjson,
                   outcome_of=task_outcome, short=short)
ENV.globals.update(query=query)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    from cronbridge.web.auth import csrf_token
    from cronbridge.web.region import here, regions

    full = {
        "request": request,
        "csrf": csrf_token(request),
        "key": request.session.get("key"),
        "region": here(request).region,
        "regions": regions(request) if request.session.get("key") else [],
        "identity": True,
        **context,
    }
    return HTMLResponse(ENV.get_template(name).render(full), status)
