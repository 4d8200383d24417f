"""The request pool: the app runs off the event loop, and a body is never buffered past the limit."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from cronbridge.api.offload import Offloaded

LIMIT = 1024


async def echo_size(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the body (as intake does: 413 once it passes the limit, 400 on a hang-up) and answers its size."""
    size, status = 0, 200
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            status = 400
            break
        size += len(message.get("body", b""))
        if size > LIMIT:
            status = 413
            break
        if not message.get("more_body", False):
            break
    thread = threading.current_thread().name.encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"x-thread", thread)]})
    await send({"type": "http.response.body", "body": str(size).encode()})


def call(app: Offloaded, chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None) -> tuple[Any, ...]:
    """Send the body in chunks; (status, body, thread, how many chunks the server asked for)."""
    asked = [0]
    sent: list[Message] = []

    async def receive() -> Message:
        asked[0] += 1
        if asked[0] > len(chunks):
            raise AssertionError("the body was read past its end")
        return {"type": "http.request", "body": chunks[asked[0] - 1], "more_body": asked[0] < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers or []}
    with concurrent.futures.ThreadPoolExecutor(1) as loop_thread:  # a loop of its own, whatever runs on this thread
        loop_thread.submit(asyncio.run, app(scope, receive, send)).result(timeout=60)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, dict(start["headers"])[b"x-thread"].decode(), asked[0]


def test_the_app_runs_on_a_pool_thread_with_the_whole_body() -> None:
    app = Offloaded(echo_size, threads=2, max_body=LIMIT)
    status, body, thread, _ = call(app, [b"a" * 100, b"b" * 100])
    assert (status, body) == (200, b"200") and thread.startswith("http")
    app.close()


def test_a_body_past_the_limit_is_not_read_to_its_end() -> None:
    app = Offloaded(echo_size, threads=2, max_body=LIMIT)
    chunks = [b"x" * 512] * 64  # 32 KiB streamed without a Content-Length
    status, _, _, asked = call(app, chunks)
    assert status == 413 and asked <= 3  # buffering stopped just past the limit
    app.close()


def test_a_declared_length_past_the_limit_is_not_read_at_all() -> None:
    app = Offloaded(echo_size, threads=2, max_body=LIMIT)
    status, _, _, asked = call(app, [b"x" * 512] * 8, headers=[(b"content-length", b"4096")])
    assert asked == 0 and status in (400, 413)  # the app refuses by the header (intake) or sees a hang-up
    app.close()
