"""Histories read per account and Region (rule names repeat across Regions): a Region's invocations, deliveries and
task events are listed in that Region only, and a name that holds LIKE's wildcards matches nothing else."""

from __future__ import annotations

from cronbridge.model.ecs import Task
from cronbridge.scope import Scope
from cronbridge.store.database import arn_like, open_database
from cronbridge.store.events import Delivery, EventLog
from cronbridge.store.invocations import Claim, InvocationLog
from cronbridge.store.task_events import TaskEventLog

EAST, WEST = Scope("000000000000", "us-east-1"), Scope("000000000000", "eu-west-1")


def delivery(rule_arn: str, at: float) -> Delivery:
    return Delivery(0, at, "e", "default", "paid", rule_arn, "q", "arn:aws:sqs:x", "SUCCEEDED", 1, "{}", "{}")


def test_invocations_and_deliveries_of_a_region_are_listed_there_only(database_location: str) -> None:
    db = open_database(database_location)
    invocations, deliveries = InvocationLog(db), EventLog(db)
    for scope, at in ((EAST, 60.0), (WEST, 120.0)):
        invocations.claim_slot(scope.arn("events", "rule/paid"), "paid", at, [Claim("q", f"t{at}")], fired_at=at)
        deliveries.record_delivery(delivery(scope.arn("events", "rule/paid"), at))
    schedule = WEST.arn("scheduler", "schedule/default/nightly")
    invocations.claim_slot(schedule, "default/nightly", 180.0, [Claim("q", "s")], fired_at=180.0)
    assert [i.rule_arn for i in invocations.recent(scope=EAST)] == [EAST.arn("events", "rule/paid")]
    assert [i.rule_arn for i in invocations.recent(scope=WEST)] == [schedule, WEST.arn("events", "rule/paid")]
    assert [d.rule_arn for d in deliveries.recent(scope=EAST)] == [EAST.arn("events", "rule/paid")]
    assert [d.rule_arn for d in deliveries.recent(WEST.arn("events", "rule/paid"))] == [
        WEST.arn("events", "rule/paid")]
    assert len(invocations.recent()) == 3 and len(deliveries.recent()) == 2  # no scope: every Region


def test_task_events_of_a_region_are_listed_there_only(database_location: str) -> None:
    log = TaskEventLog(open_database(database_location))
    for scope in (EAST, WEST):
        log.record(Task(task_arn=scope.arn("ecs", "task/c/0123"), cluster_arn=scope.arn("ecs", "cluster/c"),
                        task_definition_arn=scope.arn("ecs", "task-definition/f:1")), 1.0)
    assert [e.task.task_arn for e in log.list(scope=WEST)] == [WEST.arn("ecs", "task/c/0123")]
    assert [e.task.task_arn for e in log.list(EAST.arn("ecs", "task/c/0123"), scope=WEST)] == []


def test_an_account_or_region_is_matched_literally() -> None:
    pattern = arn_like(Scope("0_0", "us-east-1"), "events")
    assert pattern == "arn:%:events:us-east-1:0\\_0:%"
