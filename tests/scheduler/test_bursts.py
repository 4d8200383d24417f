"""Bursts: 10,000 rules and 1,000 one-time schedules due in the same second (on PostgreSQL 2,000 and 200); the
invocation log shows every slot launched exactly once (none lost, none twice), within a deadline. (The tasks'
lifecycles are not waited for: on a busy machine they take minutes; tests/ecs/runtime covers them.)"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cronbridge.errors import StoreUnavailable
from cronbridge.model.events import AwsVpcConfiguration, EcsParameters, NetworkConfiguration
from cronbridge.model.scheduler import FlexibleTimeWindow, Schedule, ScheduleTarget
from cronbridge.scope import Scope
from fixtures.harness import ACCOUNT, REGION, T0, Harness, target

SIZES = {"sqlite": (10_000, 1_000), "postgresql": (2_000, 200)}  # rules, one-time schedules due together
# (on PostgreSQL a fifth: its 11,000 tasks' lifecycles, a thread each, kept a CPU-hogged CI machine busy for minutes
# after the burst itself had passed; the exactly-once guarantee is the same at either size)
DUE = T0 + 3600  # 2027-01-15T09:00:00Z
DEADLINE = 300.0  # seconds for the whole burst to be claimed, launched and recorded (a busy machine's margin)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler"


def one_time(name: str, cluster: str, taskdef: str) -> Schedule:
    network = NetworkConfiguration(AwsVpcConfiguration(subnets=["subnet-1"]))
    ecs = EcsParameters(task_definition_arn=taskdef, launch_type="FARGATE", network_configuration=network)
    return Schedule(
        name=name,
        schedule_expression="at(2027-01-15T09:00:00)",
        target=ScheduleTarget(arn=cluster, role_arn=ROLE, ecs_parameters=ecs),
        flexible_time_window=FlexibleTimeWindow("OFF"),
    )


def finished(harness: Harness) -> int:
    """Slots no longer PENDING; -1 while the burst holds every pooled connection (PostgreSQL on a loaded machine:
    a look refused as a retryable StoreUnavailable is tried again, as an SDK would)."""
    try:
        row = harness.system.db.one("SELECT COUNT(*) AS n FROM invocations WHERE state != 'PENDING'")
    except StoreUnavailable:
        return -1
    return int(row["n"]) if row else 0


@pytest.mark.timeout(DEADLINE + 120)  # its own deadline, plus storing 11,000 rules (PostgreSQL beside a CPU hog)
def test_ten_thousand_rules_and_a_thousand_one_time_schedules_due_together_each_launch_exactly_once(
    harness: Harness, database_location: str
) -> None:
    rules_due, one_time_due = SIZES["sqlite" if database_location.startswith("sqlite") else "postgresql"]
    cluster, taskdef = harness.cluster_and_taskdef()
    with harness.system.db.transaction():
        rules = {
            harness.rule(f"rule-{i:05d}", "cron(0 9 * * ? *)", target(cluster, taskdef)).arn for i in range(rules_due)
        }
        schedules = {
            harness.system.schedules.create(Scope(ACCOUNT, REGION), one_time(f"once-{i:04d}", cluster, taskdef)).arn
            for i in range(one_time_due)
        }
    harness.start()
    harness.clock.set(DUE)
    deadline = time.monotonic() + DEADLINE
    while finished(harness) < rules_due + one_time_due and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = harness.system.db.query("SELECT rule_arn, target_id, scheduled_at, state, task_arns FROM invocations")
    assert len(rows) == rules_due + one_time_due, "a slot was lost or claimed twice"
    assert {r["rule_arn"] for r in rows} == rules | schedules  # every rule and schedule fired ...
    assert {r["scheduled_at"] for r in rows} == {DUE}  # ... for the one slot due
    assert [r for r in rows if r["state"] != "SUCCEEDED"] == [], f"not all launched within {DEADLINE:.0f} s"
    launched: list[Any] = [arn for r in rows for arn in json.loads(r["task_arns"])]
    assert len(launched) == len(set(launched)) == rules_due + one_time_due  # one task per slot
    harness.system.db.settle()
    twice = harness.system.db.query(
        "SELECT client_token FROM tasks WHERE client_token IS NOT NULL GROUP BY client_token HAVING COUNT(*) > 1"
    )
    assert twice == []  # no slot's RunTask started a second task
    task_count = harness.system.db.one("SELECT COUNT(*) AS n FROM tasks")
    assert task_count is not None and task_count["n"] == rules_due + one_time_due  # and no task the log does not know
