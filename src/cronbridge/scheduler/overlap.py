"""No overlap (tag `cronbridge:no-overlap` = skip | queue): what a launch would overlap, if anything."""

from __future__ import annotations

from datetime import UTC, datetime

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
