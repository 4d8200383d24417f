"""The console's Region, as on AWS's console: one at a time, chosen with `?region=` (kept in the session), the
server's own (--region) until one is chosen."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.requests import Request

from cronbridge.scope import Scope
from cronbridge.store.views import Views

if TYPE_CHECKING:
    from cronbridge.system import System

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def here(request: Request) -> Scope:
    """The account and Region the console shows to this session."""
    system: System = request.app.state.system
    asked = request.query_params.get("region", "")
    if _REGION.fullmatch(asked):
        request.session["region"] = asked
    region = request.session.get("region") or system.home.region
    return Scope(system.home.account, str(region))


def regions(request: Request) -> list[str]:
    """The Regions to offer: those holding anything, the server's own and the one shown."""
    system: System = request.app.state.system
    return sorted({*Views(system.db).regions(), system.home.region, here(request).region})
