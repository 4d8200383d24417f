"""Two Systems on one SQLite file (as two server processes would be): only the lease holder fires, the other takes
over when the holder dies, and ECS's caches see the other's changes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cronbridge.authorizer import IdentityPolicies
from cronbridge.clock import FakeClock
from cronbridge.model.ecs import ContainerDefinition, TaskDefinition
from cronbridge.scheduler.lease import LEASE_SECONDS, RENEW_SECONDS
from cronbridge.store.coordination import Leases
from fixtures.harness import ACCOUNT, REGION, T0, Harness, target


def die(harness: Harness) -> None:
    """The holder stops dead: no more renewals, no release, no firing."""
    scheduler = harness.system.scheduler
    scheduler.lease._stop.set()
    scheduler.lease._valid_until = 0.0
    scheduler._stop.set()
    scheduler._wake.set()


def test_only_the_holder_fires_and_the_other_takes_over_within_one_interval(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    first = Harness(tmp_path / "data", clock)
    second = Harness(tmp_path / "data", clock)
    try:
        cluster, taskdef = first.cluster_and_taskdef()
        rule = first.rule("minutely", "rate(1 minute)", target(cluster, taskdef))
        first.start()
        second.start()
        assert first.system.scheduler.lease.held and not second.system.scheduler.lease.held
        clock.advance(60)
        [one] = first.settle(rule, 1)
        died_at = time.monotonic()
        die(first)
        first.wait_for(lambda: second.system.scheduler.lease.held, timeout=LEASE_SECONDS + 2 * RENEW_SECONDS + 1)
        assert time.monotonic() - died_at <= LEASE_SECONDS + 2 * RENEW_SECONDS
        assert Leases(second.system.db).holder("scheduler", time.time()) == second.system.scheduler.lease.holder
        clock.advance(60)
        rows = second.settle(rule, 2)
        assert [r.scheduled_at for r in rows] == [T0 + 60, T0 + 120]
        assert len({arn for r in rows for arn in r.task_arns}) == 2
    finally:
        first.close()
        second.close()


def test_a_change_made_through_the_standby_is_planned_by_the_holder(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    holder = Harness(tmp_path / "data", clock).start()
    standby = Harness(tmp_path / "data", clock).start()
    try:
        cluster, taskdef = standby.cluster_and_taskdef()
        rule = standby.rule("made-elsewhere", "rate(1 minute)", target(cluster, taskdef))
        holder.wait_for(lambda: any(e[1] == "rule:made-elsewhere" for e in holder.system.scheduler._heap))
        clock.advance(60)
        [fired] = holder.settle(rule, 1)
        assert fired.state == "SUCCEEDED"
    finally:
        holder.close()
        standby.close()


def test_ecs_caches_see_clusters_and_revisions_made_by_another_process(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    one = Harness(tmp_path / "data", clock)
    other = Harness(tmp_path / "data", clock)
    try:
        assert other.system.ecs.find_cluster("late") is None  # cached as missing
        one.cluster_and_taskdef("late")
        assert other.system.ecs.cluster("late").cluster_name == "late"
        assert other.system.ecs.task_definition("batch").revision == 1  # cached as the latest
        definition = TaskDefinition(
            family="batch", container_definitions=[ContainerDefinition(name="app", image="busybox", memory=64)]
        )
        one.system.ecs.register(REGION, ACCOUNT, definition)
        assert other.system.ecs.task_definition("batch").revision == 2
    finally:
        one.close()
        other.close()


def test_a_holder_too_busy_to_renew_in_time_fires_the_held_back_slot_once_renewed(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    cluster, taskdef = harness.cluster_and_taskdef()
    rule = harness.rule("minutely", "rate(1 minute)", target(cluster, taskdef))
    harness.start()
    scheduler = harness.system.scheduler
    rebuilds: list[float] = []
    real_rebuild = scheduler._rebuild
    scheduler._rebuild = lambda: (rebuilds.append(time.time()), real_rebuild())[1]  # type: ignore[method-assign]
    with harness.system.db.urgent():  # the database is busy past the lease's validity: the renewal comes late
        harness.clock.advance(60)  # the slot comes due meanwhile: held back
        time.sleep(LEASE_SECONDS + 0.3)
        assert harness.invocations(rule) == []
    [fired] = harness.settle(rule, 1)
    assert fired.scheduled_at == T0 + 60 and fired.state == "SUCCEEDED"
    assert "renewed late" in caplog.text  # nobody else held it in between: it was ours all along
    assert rebuilds == []  # so the plan still held: no re-plan of every rule


def test_an_iam_change_made_through_one_server_reaches_the_others_answers(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    holder = Harness(tmp_path / "data", clock).start()
    standby = Harness(tmp_path / "data", clock).start()
    try:
        trust = (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},'
            '"Action":"sts:AssumeRole"}]}'
        )
        role = holder.system.identity.create_role("Worker", trust)
        answers = IdentityPolicies(standby.system.identity, clock)
        assert answers.policies_for(role.arn)[0] == []  # the standby remembers: no policy
        allow = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}'
        holder.system.identity.policies.put_inline("role", "Worker", "logs", allow)
        standby.wait_for(lambda: answers.policies_for(role.arn)[0], timeout=LEASE_SECONDS + 2 * RENEW_SECONDS)
    finally:
        holder.close()
        standby.close()
