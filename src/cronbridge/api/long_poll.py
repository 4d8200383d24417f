"""SQS long polling on the wire: a ReceiveMessage that finds nothing asks to wait (its `Poll` in the request's scope);
the LongPolls middleware then waits on the server's event loop (sqs/arrivals.py: woken by a send, or by a short look
at the database for other processes' sends) and runs the request again with what remains of the wait. No thread
and no database lock is held while waiting, and no thread spins: the handler itself never blocks."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cronbridge.sqs.arrivals import Arrivals

log = logging.getLogger("cronbridge.sqs")
SCOPE_KEY = "cronbridge.long_poll"
TARGET = b"AmazonSQS.ReceiveMessage"
MAX_WAIT = 20.0  # SQS's WaitTimeSeconds maximum


@dataclass
class Poll:
    """One long-polling request's state across its runs: what remains of its wait, and what the last run asked for."""

    remaining: float | None = None  # None on the first run: the request's own WaitTimeSeconds applies
    queue: str | None = None  # the queue's ARN (names repeat across Regions)
    seconds: float = 0.0

    def ask(self, queue: str, wait: float) -> bool:
        """The handler found nothing: wait for `queue` (up to `wait` seconds, or what remains); False when no time
        is left (the empty answer stands)."""
        allowed = min(float(wait), MAX_WAIT) if self.remaining is None else self.remaining
        if allowed <= 0:
            return False
        self.queue, self.seconds = queue, allowed
        return True


class LongPolls:
    """ASGI middleware: ReceiveMessage requests run, and while they ask to wait, wait here and run again. Every other
    request passes straight through (nothing buffered). `arrivals` and `ready` are the SQS service's."""

    def __init__(self, app: ASGIApp, arrivals: Arrivals, ready: Callable[[str], bool]) -> None:
        self.app = app
        self.arrivals = arrivals
        self.ready = ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_receive(scope):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client went away before its request was whole
            return
        poll = Poll()
        deadline: float | None = None
        while True:
            answer = await _run(self.app, {**scope, SCOPE_KEY: poll}, body)
            if poll.queue is None:
                for message in answer:
                    await send(message)
                return
            queue, seconds = poll.queue, poll.seconds
            poll.queue = None
            deadline = deadline if deadline is not None else time.monotonic() + seconds
            left = max(0.0, deadline - time.monotonic())
            try:
                await self.arrivals.wait(queue, left, functools.partial(self.ready, queue))
            except Exception:  # a look at the database failed (the queue deleted meanwhile...): the next run says
                log.exception("long polling of %s: waiting failed; the request runs again now", queue)
            poll.remaining = max(0.0, deadline - time.monotonic())


def _is_receive(scope: Scope) -> bool:
    return any(name == b"x-amz-target" and value == TARGET for name, value in scope.get("headers", ()))


async def _run(app: ASGIApp, scope: Scope, body: bytes) -> list[Message]:
    """Run the app once with the buffered body; its response messages, to be sent (or dropped when it waits)."""
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def collect(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, collect)
    return sent


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


__all__ = ["MAX_WAIT", "SCOPE_KEY", "LongPolls", "Poll"]
