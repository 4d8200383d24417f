"""Precise firing: a slot launches at its instant (claimed in the log first), and a slow launch delays nothing else."""

from __future__ import annotations

import heapq
import threading
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.errors import StoreUnavailable
from cronbridge.launchers.base import ContainerSpec
from cronbridge.scheduler.engine import _entries_until
from fixtures.harness import T0, Harness, target


def test_a_slot_is_claimed_and_launched_at_its_instant_with_the_actual_time_recorded(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("half-hourly", "cron(*/30 * * * ? *)", target(cluster, taskdef))
    harness.start()
    harness.clock.set(T0 + 29 * 60 + 59.5)  # 08:29:59.5: not yet
    harness.wait_for(lambda: harness.system.scheduler.delivery is not None)
    assert harness.invocations(rule) == []
    harness.clock.set(T0 + 30 * 60)  # 08:30:00 exactly
    [fired] = harness.settle(rule, 1)
    assert fired.scheduled_at == T0 + 30 * 60
    assert fired.state == "SUCCEEDED" and len(fired.task_arns) == 1
    assert fired.fired_at is not None and 0 <= fired.fired_at - fired.scheduled_at < 0.1
    assert fired.started_at is not None and 0 <= fired.started_at - fired.scheduled_at < 0.1
    task = harness.system.ecs.tasks.get(fired.task_arns[0])
    assert task is not None and task.client_token == fired.client_token
    assert task.started_by == "events-rule/half-hourly"


def test_a_launch_that_hangs_does_not_delay_another_rules_slot(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    slow_cluster, _ = harness.cluster_and_taskdef("slow")
    launcher = harness.system.runner.launcher
    release = threading.Event()
    real = launcher.start

    def start(spec: ContainerSpec, sink: Any) -> Any:  # a container that takes long to start, on one cluster only
        if "/slow/" in spec.task_arn:
            release.wait(10)
        return real(spec, sink)

    launcher.start = start  # type: ignore[method-assign]
    slow = harness.rule("slow", "rate(1 minute)", target(slow_cluster, taskdef))
    fast = harness.rule("fast", "rate(1 minute)", target(cluster, taskdef))
    harness.start()
    harness.clock.advance(60)
    [done] = harness.settle(fast, 1)
    assert done.state == "SUCCEEDED" and done.started_at == T0 + 60
    fast_task = harness.wait_for(lambda: _stopped(harness, done.task_arns[0]))
    assert fast_task.stop_code == "EssentialContainerExited"  # it ran and ended while the other still starts
    [hanging] = harness.settle(slow, 1)
    slow_task = harness.system.ecs.tasks.get(hanging.task_arns[0])
    assert slow_task is not None and slow_task.last_status not in ("RUNNING", "STOPPED")
    release.set()
    assert harness.wait_for(lambda: _stopped(harness, hanging.task_arns[0])).stop_code == "EssentialContainerExited"


def _stopped(harness: Harness, task_arn: str) -> Any:
    harness.system.db.settle()
    task = harness.system.ecs.tasks.get(task_arn)
    return task if task is not None and task.last_status == "STOPPED" else None


def test_every_target_of_a_slot_is_claimed_in_one_transaction(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("two", "rate(1 minute)", target(cluster, taskdef, "a"), target(cluster, taskdef, "b"))
    plan = harness.system.scheduler._current(f"rule:{rule.arn}")
    assert plan is not None
    claimed = harness.system.scheduler.delivery.fire(plan, T0 + 60)
    assert sorted(i.target_id for i in claimed) == ["a", "b"]
    assert harness.system.scheduler.delivery.fire(plan, T0 + 60) == []  # never twice
    rows: Any = harness.invocations(rule)
    assert {r.fired_at for r in rows} == {T0}


def test_one_failing_launch_of_a_batch_leaves_the_others_launched(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    missing = taskdef.rsplit(":", 1)[0] + ":99"  # a revision that does not exist: RunTask refuses it
    good = harness.rule("good", "rate(1 minute)", target(cluster, taskdef))
    bad = harness.rule("bad", "rate(1 minute)", target(cluster, missing, retries=0))
    harness.start()
    harness.clock.advance(60)  # both due at once: one launch batch, one transaction
    [launched] = harness.settle(good, 1)
    [failed] = harness.settle(bad, 1)
    assert launched.state == "SUCCEEDED" and len(launched.task_arns) == 1 and launched.attempts == 1
    assert failed.state == "FAILED" and failed.error_code == "ClientException" and failed.attempts == 1
    assert harness.system.ecs.tasks.list_arns(cluster) == launched.task_arns


def test_launches_are_prepared_before_their_instant(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    harness.rule("soon", "cron(1 8 * * ? *)", target(cluster, taskdef))
    asked: list[float] = []
    delivery = harness.system.scheduler.delivery

    class Recording:
        def authorize_rule_launch(self, *args: Any, **kwargs: Any) -> None:
            asked.append(harness.clock.now())

    delivery.authorizer = Recording()  # type: ignore[assignment]
    harness.start()
    harness.clock.set(T0 + 57)  # 3 s ahead of 08:01: nothing yet
    time.sleep(0.2)
    assert asked == []
    harness.clock.set(T0 + 58.5)  # within PREPARE_AHEAD: decided now
    harness.wait_for(lambda: asked)
    assert asked == [T0 + 58.5]
    harness.clock.set(T0 + 60)  # at the instant: asked again (the real authorizer answers from memory)
    harness.wait_for(lambda: len(asked) == 2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 100), max_size=60), st.floats(0, 100), st.floats(0, 100))
def test_the_entries_due_in_a_window_are_found_in_the_heap(times: list[float], after: float, until: float) -> None:
    heap = [(t, f"rule:{i}", 0, t) for i, t in enumerate(times)]
    heapq.heapify(heap)
    found = sorted(_entries_until(heap, after, until))
    assert found == sorted(e for e in heap if after < e[0] <= until)


def test_a_rule_put_while_the_scheduler_plans_is_not_forgotten(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    harness.start()
    scheduler = harness.system.scheduler
    replan = scheduler._replan_changed
    put: list[Any] = []

    def replan_with_a_put_meanwhile() -> None:  # PutRule answered on another thread while the loop plans
        replan()
        if not put:
            put.append(harness.rule("late", "rate(1 minute)", target(cluster, taskdef)))

    scheduler._replan_changed = replan_with_a_put_meanwhile  # type: ignore[method-assign]
    scheduler.wake()
    harness.wait_for(lambda: put)
    harness.clock.advance(60)  # the loop had nothing planned: only the announced change can make it plan this rule
    [fired] = harness.settle(put[0], 1)
    assert fired.scheduled_at == T0 + 60 and fired.state == "SUCCEEDED"


def test_a_batch_that_meets_a_late_lease_renewal_launches_once_the_lease_is_back(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("late", "rate(1 minute)", target(cluster, taskdef))
    scheduler = harness.system.scheduler
    harness.start()
    harness.wait_for(lambda: scheduler.lease.held)
    plan = scheduler._current(f"rule:{rule.arn}")
    assert plan is not None
    launches = scheduler._claim(plan, T0 + 60)
    held = [False]
    scheduler.delivery.active = lambda: held[0]  # the renewal runs late: the lease is not surely ours
    assert scheduler.delivery.record_batch(launches) == []
    [waiting] = harness.invocations(rule)
    assert waiting.state == "PENDING" and waiting.attempts == 0  # not attempted, not dropped
    held[0] = True  # renewed, nobody else took it
    harness.clock.advance(1)
    [launched] = harness.settle(rule, 1)
    assert launched.state == "SUCCEEDED" and launched.attempts == 1 and len(launched.task_arns) == 1


def test_a_claim_whose_transaction_fails_is_claimed_at_the_next_step_not_lost(harness: Harness) -> None:
    """The database refuses the claim of a due batch once (PostgreSQL away or out of connections): the slots stay on
    the heap and fire a second later; before, the rolled-back slots were gone until their next occurrence."""
    cluster, taskdef = harness.cluster_and_taskdef()
    rules = [harness.rule(f"daily-{i}", "cron(0 9 * * ? *)", target(cluster, taskdef)) for i in range(3)]
    log = harness.system.scheduler.delivery.log
    real_claim, refused = log.claim_slot, []

    def claim_once_refused(*args: Any, **kwargs: Any) -> Any:
        if not refused:
            refused.append(args[0])
            raise StoreUnavailable("the database is away for a moment")
        return real_claim(*args, **kwargs)

    log.claim_slot = claim_once_refused  # type: ignore[method-assign]
    harness.start()
    harness.clock.set(T0 + 3600)  # 09:00:00
    harness.wait_for(lambda: refused)
    # The scheduler tries again a second (of its clock) after the failed step. The step reads the clock after the
    # refusal unwinds, which may be after an advance made here: so the clock moves a second at a time, at most a
    # minute, far short of the rules' next occurrence (tomorrow).
    deadline = time.monotonic() + 60
    while not all(harness.invocations(rule) for rule in rules) and time.monotonic() < deadline:
        harness.clock.advance(1)
        time.sleep(0.5)
    assert harness.clock.now() <= T0 + 3600 + 120
    for rule in rules:
        [done] = harness.settle(rule, 1, timeout=30)
        assert done.state == "SUCCEEDED" and done.scheduled_at == T0 + 3600
    assert refused  # the refusal happened, and its slot fired anyway
