"""No-overlap: the mode a plan asks for, and queued launches handed on once free, none holding a worker."""

from __future__ import annotations

import threading
import time

from cronbridge.model.events import Target
from cronbridge.scheduler.overlap import Waiting, mode
from cronbridge.scheduler.sources import Plan
from cronbridge.store.invocations import Invocation

PLAN = Plan(
    key="rule:r",
    arn="arn:aws:events:us-east-1:1:rule/r",
    name="r",
    targets=(),
    started_by="x",
    expression="rate(1 minute)",
)


def invocation(i: int) -> Invocation:
    return Invocation(
        id=i,
        rule_arn=PLAN.arn,
        rule_name="r",
        target_id="t",
        scheduled_at=float(i),
        manual=False,
        state="PENDING",
        client_token=str(i),
    )


def test_the_mode_comes_from_the_tag_and_anything_else_means_overlap_allowed() -> None:
    tagged = {v: Plan(**{**PLAN.__dict__, "tags": {"cronbridge:no-overlap": v}}) for v in ("skip", "QUEUE", "no")}
    assert [mode(tagged[v]) for v in ("skip", "QUEUE", "no")] == ["skip", "queue", None]
    assert mode(PLAN) is None


def test_queued_launches_go_in_order_once_free_and_hundreds_wait_on_one_thread() -> None:
    free: set[int] = set()
    launched: list[int] = []
    done = threading.Event()

    def launch(plan: Plan, target: Target, inv: Invocation) -> None:
        launched.append(inv.id)
        if len(launched) == 300:
            done.set()

    waiting = Waiting(lambda inv: None if inv.id in free else "busy", launch, poll=0.01)
    def waiters() -> int:  # the queue's own threads (other tests' threads may be ending meanwhile)
        return sum(t.name == "no-overlap" for t in threading.enumerate())

    before = waiters()
    for i in range(300):
        waiting.add(PLAN, Target(id="t"), invocation(i))
    assert waiters() == before + 1 and len(waiting) == 300
    time.sleep(0.05)
    assert launched == []
    free.update(range(300))
    assert done.wait(5)
    assert launched == list(range(300)) and len(waiting) == 0
    waiting.stop()
