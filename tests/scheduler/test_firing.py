"""Precise firing: a slot launches at its instant (claimed in the log first), and a slow launch delays nothing else."""

from __future__ import annotations

import threading
from typing import Any

from cronbridge.runner import RunTaskRequest, RunTaskResult
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
    runner = harness.system.runner
    release = threading.Event()
    real = runner.run_task

    def run_task(req: RunTaskRequest) -> RunTaskResult:  # ECS answering slowly for one cluster only
        if req.cluster.endswith("/slow"):
            release.wait(10)
        return real(req)

    runner.run_task = run_task  # type: ignore[method-assign]
    slow = harness.rule("slow", "rate(1 minute)", target(slow_cluster, taskdef))
    fast = harness.rule("fast", "rate(1 minute)", target(cluster, taskdef))
    harness.start()
    harness.clock.advance(60)
    [done] = harness.settle(fast, 1)
    assert done.state == "SUCCEEDED" and done.started_at == T0 + 60
    [hanging] = harness.invocations(slow)
    assert hanging.state == "PENDING" and hanging.attempts == 1
    release.set()
    assert harness.settle(slow, 1)[0].state == "SUCCEEDED"


def test_every_target_of_a_slot_is_claimed_in_one_transaction(harness: Harness) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("two", "rate(1 minute)", target(cluster, taskdef, "a"), target(cluster, taskdef, "b"))
    plan = harness.system.scheduler._current("rule:two")
    assert plan is not None
    claimed = harness.system.scheduler.delivery.fire(plan, T0 + 60, submit=False)
    assert sorted(i.target_id for i in claimed) == ["a", "b"]
    assert harness.system.scheduler.delivery.fire(plan, T0 + 60, submit=False) == []  # never twice
    rows: Any = harness.invocations(rule)
    assert {r.fired_at for r in rows} == {T0}
