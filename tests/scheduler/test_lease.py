"""Two Systems on one database (as two server processes would be; SQLite and PostgreSQL): only the lease holder
fires, the other takes over when the holder dies, and ECS's caches see the other's changes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cronbridge.clock import FakeClock
from cronbridge.identity.authorizer import IdentityPolicies
from cronbridge.model.ecs import ContainerDefinition, TaskDefinition
from cronbridge.scheduler.lease import LEASE_SECONDS, RENEW_SECONDS
from cronbridge.scope import HOME, Scope
from cronbridge.store.coordination import Leases
from cronbridge.store.database import open_database
from fixtures.harness import ACCOUNT, REGION, T0, Harness, target


@contextlib.contextmanager
def busy(harness: Harness) -> Iterator[None]:
    """The database keeps the lease's renewal waiting: SQLite's one connection held by this thread; PostgreSQL's
    lease row locked by another connection's open transaction."""
    db = harness.system.db
    if db.dialect.name == "sqlite":
        with db.urgent():
            yield
        return
    other = open_database(harness.database or "")
    try:
        with other.transaction() as conn:
            conn.execute("SELECT * FROM leases FOR UPDATE")
            yield
    finally:
        other.close()


def die(harness: Harness) -> None:
    """The holder stops dead: no more renewals, no release, no firing."""
    scheduler = harness.system.scheduler
    scheduler.lease._stop.set()
    scheduler.lease._valid_until = 0.0
    scheduler._stop.set()
    scheduler._wake.set()


def test_only_the_holder_fires_and_the_other_takes_over_within_one_interval(
    tmp_path: Path, database_location: str
) -> None:
    clock = FakeClock(T0)
    first = Harness(tmp_path / "data", clock, database_location)
    second = Harness(tmp_path / "data", clock, database_location)
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


def test_on_postgresql_a_holder_whose_session_ends_is_replaced_at_once(tmp_path: Path, postgres_url: str) -> None:
    """A holder on another host (its process id tells nothing here) that dies: its PostgreSQL session ends with it,
    and a standby takes the lease at its next look instead of waiting for the lease to run out."""
    clock = FakeClock(T0)
    first = Harness(tmp_path / "one", clock, postgres_url).start()
    second = Harness(tmp_path / "two", clock, postgres_url).start()
    try:
        assert first.system.scheduler.lease.held and not second.system.scheduler.lease.held
        die(first)
        died_at = time.monotonic()
        first.system.db.close()  # the process is gone: so are its connections
        first.wait_for(lambda: second.system.scheduler.lease.held, timeout=LEASE_SECONDS + 2 * RENEW_SECONDS + 1)
        assert time.monotonic() - died_at < LEASE_SECONDS - RENEW_SECONDS  # sooner than the lease could run out
    finally:
        first.close()
        second.close()


def test_a_change_made_through_the_standby_is_planned_by_the_holder(
    tmp_path: Path, database_location: str
) -> None:
    clock = FakeClock(T0)
    holder = Harness(tmp_path / "data", clock, database_location).start()
    standby = Harness(tmp_path / "data", clock, database_location).start()
    try:
        cluster, taskdef = standby.cluster_and_taskdef()
        rule = standby.rule("made-elsewhere", "rate(1 minute)", target(cluster, taskdef))
        holder.wait_for(lambda: any(e[1] == f"rule:{rule.arn}" for e in holder.system.scheduler._heap))
        clock.advance(60)
        [fired] = holder.settle(rule, 1)
        assert fired.state == "SUCCEEDED"
    finally:
        holder.close()
        standby.close()


def test_ecs_caches_see_clusters_and_revisions_made_by_another_process(
    tmp_path: Path, database_location: str
) -> None:
    clock = FakeClock(T0)
    one = Harness(tmp_path / "data", clock, database_location)
    other = Harness(tmp_path / "data", clock, database_location)
    try:
        assert other.system.ecs.find_cluster(HOME, "late") is None  # cached as missing
        one.cluster_and_taskdef("late")
        other.system.freshness.check()  # what every request does first
        assert other.system.ecs.cluster(HOME, "late").cluster_name == "late"
        assert other.system.ecs.task_definition(HOME, "batch").revision == 1  # cached as the latest
        definition = TaskDefinition(
            family="batch", container_definitions=[ContainerDefinition(name="app", image="busybox", memory=64)]
        )
        one.system.ecs.register(Scope(ACCOUNT, REGION), definition)
        assert other.system.ecs.task_definition(HOME, "batch").revision == 1  # still cached: nothing looked
        other.system.freshness.check()
        assert other.system.ecs.task_definition(HOME, "batch").revision == 2
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
    with busy(harness):  # the database is busy past the lease's validity: the renewal comes late
        harness.wait_for(lambda: not scheduler.lease.held, timeout=LEASE_SECONDS + 2)
        harness.clock.advance(60)  # the slot comes due meanwhile: held back
        time.sleep(2 * RENEW_SECONDS)
        assert harness.invocations(rule) == []
    [fired] = harness.settle(rule, 1)
    assert fired.scheduled_at == T0 + 60 and fired.state == "SUCCEEDED"
    assert "renewed late" in caplog.text  # nobody else held it in between: it was ours all along
    assert rebuilds == []  # so the plan still held: no re-plan of every rule


def test_an_iam_change_made_through_one_server_reaches_the_others_answers(
    tmp_path: Path, database_location: str
) -> None:
    clock = FakeClock(T0)
    holder = Harness(tmp_path / "data", clock, database_location).start()
    standby = Harness(tmp_path / "data", clock, database_location).start()
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
