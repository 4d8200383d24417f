"""This process's inbox: requests other processes sent it (stop a task it runs, pause for a reset, resume), noticed
within milliseconds through the database's change feed, each acted on by its handler and then marked done."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cronbridge.errors import StoreUnavailable
from cronbridge.store.peers import ChangeFeed, ControlRequest, ControlRequests

log = logging.getLogger("cronbridge.peers")
Handler = Callable[[ControlRequest], None]
LOOK_ANYWAY = 1.0  # seconds between looks at the inbox when the feed said nothing


class Inbox:
    """Watches the feed on a thread of its own; runs handlers on a few threads (a stop may wait for a container)."""

    def __init__(self, requests: ControlRequests, feed: ChangeFeed, me: str, handlers: dict[str, Handler]) -> None:
        self.requests = requests
        self.feed = feed
        self.me = me
        self.handlers = handlers
        self._running: set[int] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inbox")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="inbox")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.feed.close()
        if self._thread.is_alive():
            self._thread.join(5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.look()
            except StoreUnavailable as exc:  # the database is away: look again
                log.warning("inbox look failed: %s", exc)
            except Exception:  # the database is busy or closing: look again
                log.exception("inbox look failed")
            self.feed.wait(LOOK_ANYWAY)

    def look(self) -> None:
        """Start a handler for each new request addressed to this process."""
        for request in self.requests.open_for(self.me):
            with self._lock:
                if request.id in self._running:
                    continue
                self._running.add(request.id)
            self._pool.submit(self._handle, request)

    def _handle(self, request: ControlRequest) -> None:
        try:
            handler = self.handlers.get(request.kind)
            if handler is None:
                log.warning("request %s of unknown kind %r ignored", request.id, request.kind)
            else:
                handler(request)
        except Exception:
            log.exception("request %s (%s %s) failed", request.id, request.kind, request.subject)
        finally:
            try:
                self.requests.done(request.id, time.time())
            finally:
                with self._lock:
                    self._running.discard(request.id)
