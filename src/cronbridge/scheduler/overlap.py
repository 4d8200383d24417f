"""No overlap (tag `cronbridge:no-overlap` = skip | queue): what a launch would overlap, if anything."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cronbridge.model.events import Target
from cronbridge.scheduler.sources import Plan
from cronbridge.store.invocations import Invocation, InvocationLog
from cronbridge.store.tasks import TaskStore

TAG = "cronbridge:no-overlap"
MODES = ("skip", "queue")


def mode(plan: Plan) -> str | None:
    """'skip', 'queue', or None when the plan does not ask for no-overlap."""
    value = plan.tags.get(TAG, "").strip().lower()
    return value if value in MODES else None


def blocker(log: InvocationLog, tasks: TaskStore, invocation: Invocation) -> str | None:
    """Why the invocation would overlap the previous run of its target (None when it would not)."""
    earlier = log.earlier_unfinished(invocation)
    if earlier is not None:
        return f"the run scheduled at {_iso(earlier.scheduled_at)} has not launched yet"
    last = log.last_launched(invocation)
    if last is None:
        return None
    running = [t for t in tasks.get_many(last.task_arns) if str(t.last_status) != "STOPPED"]
    if not running:
        return None
    task = running[0]
    return f"task {task.task_arn} of the run scheduled at {_iso(last.scheduled_at)} is still {task.last_status}"


def _iso(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Launch = Callable[[Plan, Target, Invocation], None]
Check = Callable[[Invocation], "str | None"]


@dataclass
class _Queued:
    plan: Plan
    target: Target
    invocation: Invocation
    since: float


class Waiting:
    """Launches queued behind a running previous run (no-overlap = queue): one thread looks at them every `poll`
    seconds and hands each, once free, to `launch` (the pool); none of them holds a launch worker while it waits."""

    def __init__(self, check: Check, launch: Launch, poll: float = 0.1) -> None:
        self.check = check
        self.launch = launch
        self.poll = poll
        self._queued: list[_Queued] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, plan: Plan, target: Target, invocation: Invocation) -> None:
        with self._lock:
            self._queued.append(_Queued(plan, target, invocation, time.monotonic()))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True, name="no-overlap")
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queued)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            with self._lock:
                queued = list(self._queued)
            waiting: set[tuple[str, str]] = set()  # targets with an earlier launch still queued in this pass
            for item in queued:  # in claim order; a launched one stays PENDING, so the next of its target waits
                key = (item.plan.key, item.target.id)
                if key in waiting:  # never ahead of an earlier one of its target (it may come free mid-pass)
                    continue
                if self.check(item.invocation) is None:
                    with self._lock:
                        self._queued.remove(item)
                    self.launch(item.plan, item.target, item.invocation)
                else:
                    waiting.add(key)
