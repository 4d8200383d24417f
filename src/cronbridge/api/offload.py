"""Requests leave the event loop: each HTTP request runs the app on a bounded pool of threads (each thread with an
event loop of its own), so a call that waits (a lock, a long scan, a commit) stalls no other caller. The server's
event loop only moves bytes, and answers the few routes that read memory alone (the health check) itself. A body is
buffered up to `max_body` bytes (the largest any route accepts): past that, the app gets what came with more to follow
and, should it ask for the rest, a hang-up; every route refuses such a body (413) before it asks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_THREADS = 32
DEFAULT_MAX_BODY = 8 << 20


class Offloaded:
    """An ASGI app that runs `app` for every HTTP request on one of `threads` threads; `inline(scope)` names the
    requests answered on the event loop instead (they must never wait for anything)."""

    def __init__(self, app: ASGIApp, threads: int = DEFAULT_THREADS,
                 inline: Callable[[Scope], ASGIApp | None] = lambda scope: None,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.inline = inline
        self.max_body = max_body
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")
        self._local = threading.local()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        here = self.inline(scope)
        if here is not None:
            await here(scope, receive, send)
            return
        read = await _read_body(receive, scope, self.max_body)
        if read is None:  # the client went away before its request was whole
            return
        messages = await asyncio.get_running_loop().run_in_executor(self.pool, self._run, scope, *read)
        for message in messages:
            await send(message)

    def _run(self, scope: Scope, body: bytes, whole: bool) -> list[Message]:
        """The app, on a pool thread: its request body given at once (`whole`: all of it), its response gathered for
        the event loop."""
        loop = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
        messages: list[Message] = []
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": not whole}
            if not whole:  # the rest of a body past the limit was never read: as if the client had gone
                return {"type": "http.disconnect"}
            await asyncio.Event().wait()  # the client does not go away while the app runs: nothing more comes
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            messages.append(message)

        loop.run_until_complete(self.app(dict(scope), receive, send))
        return messages

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


async def _read_body(receive: Receive, scope: Scope, limit: int) -> tuple[bytes, bool] | None:
    """(the body, or its first bytes past `limit`; whether it is whole); None when the client went away first. A
    declared Content-Length past `limit` is not read at all (the app refuses it by that header)."""
    declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), b"")
    if declared.isdigit() and int(declared) > limit:
        return b"", False
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False
