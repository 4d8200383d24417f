"""Cached answers kept fresh across processes: a write that changes what a cache holds (a task definition, a
cluster, anything IAM) moves that cache's generation on in the database; before each request a process reads the
generations (one small read beside the writer) and drops the caches whose generation moved."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cronbridge.errors import StoreUnavailable
from cronbridge.store.peers import CacheGenerations

ECS = "ecs"
IAM = "iam"
AWAY_SECONDS = 2.0  # after the database was found away, how long requests go without the generations' read
EVENTS = "events"  # the event router's rule indexes (a reset starts the rules' change counter again)


class Freshness:
    """`check()` before a request; `changed(name)` after a write to what cache `name` holds."""

    def __init__(self, generations: CacheGenerations, forgetters: dict[str, Callable[[], None]]) -> None:
        self.generations = generations
        self.forgetters = forgetters
        self._seen = generations.read()
        self._lock = threading.Lock()
        self._away_until = 0.0  # until when the database counts as away (its generations are not read meanwhile)

    def changed(self, name: str) -> None:
        self.generations.bump(name)

    def check(self) -> None:
        """Drop every cache that another process (or a reset) made stale since the last check. While the database
        is away the caches are kept: reads they can answer are answered, anything else is refused with a 503."""
        if time.monotonic() < self._away_until:  # found away a moment ago: the request is not made to wait twice
            return
        try:
            current = self.generations.read()
        except StoreUnavailable:
            self._away_until = time.monotonic() + AWAY_SECONDS
            return
        with self._lock:
            stale = [n for n in self.forgetters if current.get(n) != self._seen.get(n)]
            self._seen = current
        for name in stale:
            self.forgetters[name]()
