"""Test-only fault injection, served only when the server runs with CRONBRIDGE_TEST_HOOKS=1: POST
/_cronbridge/test/stall {"part": "loop" | "database", "seconds": N} stalls the event loop (on the loop itself) or
holds the database's write lock (on a thread), so that tests can watch the watchdog notice a real stall."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from cronbridge.system import System

STALL_PATH = "/_cronbridge/test/stall"
MAX_SECONDS = 60.0


def stall_app(system: System) -> ASGIApp:
    """The hook, answered on the event loop (a loop stall must happen there)."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        try:
            payload = json.loads(message.get("body") or b"{}")
            part, seconds = str(payload["part"]), min(float(payload["seconds"]), MAX_SECONDS)
        except (ValueError, KeyError, TypeError):
            await JSONResponse({"message": 'expected {"part": "loop" | "database", "seconds": N}'}, 400)(
                scope, receive, send)
            return
        if part == "loop":
            stall_the_event_loop(seconds)
        elif part == "database":
            threading.Thread(target=hold_the_database, args=(system, seconds), daemon=True, name="stall").start()
        else:
            await JSONResponse({"message": f"unknown part {part!r}"}, 400)(scope, receive, send)
            return
        await JSONResponse({"stalled": part, "seconds": seconds})(scope, receive, send)

    return answer


def stall_the_event_loop(seconds: float) -> None:
    """Block the thread that runs the event loop (this is the fault under test)."""
    time.sleep(seconds)


def hold_the_database(system: System, seconds: float) -> None:
    """Hold the write lock as a transaction stuck on a slow disk would."""
    from cronbridge.store.db import SqliteDatabase

    if not isinstance(system.db, SqliteDatabase):  # PostgreSQL has no process-wide write lock to hold
        return
    with system.db.lock:
        time.sleep(seconds)
