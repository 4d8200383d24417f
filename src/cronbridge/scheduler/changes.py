"""What moved a fire time: services announce changes here, the scheduler (made after them) listens."""

from __future__ import annotations

import threading
from collections.abc import Callable

Listener = Callable[[str | None], None]


class Changes:
    """A change announced by key ("rule:ARN", "schedule:ARN", or None for everything) reaches every listener.
    Made before the services and the scheduler, so each gets it at construction."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def listen(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def changed(self, key: str | None) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(key)

    def rule(self, arn: str | None) -> None:
        self.changed(None if arn is None else f"rule:{arn}")

    def schedule(self, arn: str | None) -> None:
        self.changed(None if arn is None else f"schedule:{arn}")
