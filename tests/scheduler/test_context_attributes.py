"""EventBridge Scheduler's context attributes in a schedule's Input reach the RunTask overrides."""

from __future__ import annotations

import json

from cronbridge.model.events import EcsParameters, Target
from cronbridge.scheduler.payloads import run_task_request
from cronbridge.scheduler.sources import Plan
from cronbridge.store.invocations import Invocation

ARN = "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly"


def request_for(key: str, text: str) -> object:
    plan = Plan(key=key, arn=ARN, name="nightly", targets=(), started_by="x", expression="rate(1 hour)")
    target = Target(
        id="t",
        arn="arn:aws:ecs:us-east-1:000000000000:cluster/c",
        input=text,
        ecs_parameters=EcsParameters(task_definition_arn="batch:1"),
    )
    invocation = Invocation(1, ARN, "nightly", "t", 1_800_000_000.0, False, "PENDING", "a" * 64, attempts=2)
    return run_task_request(plan, target, invocation)


def test_a_schedules_input_gets_the_scheduled_time_and_attempt() -> None:
    overrides = {
        "containerOverrides": [
            {
                "name": "app",
                "environment": [
                    {"name": "AT", "value": "<aws.scheduler.scheduled-time>"},
                    {"name": "TRY", "value": "<aws.scheduler.attempt-number>"},
                    {"name": "WHO", "value": "<aws.scheduler.schedule-arn>"},
                ],
            }
        ]
    }
    request = request_for("schedule:default/nightly", json.dumps(overrides))
    environment = {e.name: e.value for e in request.overrides.container_overrides[0].environment}  # type: ignore[attr-defined]
    assert environment == {"AT": "2027-01-15T08:00:00Z", "TRY": "2", "WHO": ARN}


def test_a_rules_input_is_left_as_it_is() -> None:
    text = json.dumps({"containerOverrides": [{"name": "app", "command": ["echo", "<aws.scheduler.attempt-number>"]}]})
    request = request_for("rule:nightly", text)
    assert request.overrides.container_overrides[0].command == ["echo", "<aws.scheduler.attempt-number>"]  # type: ignore[attr-defined]


def test_a_targets_placement_constraints_reach_run_task_in_its_spelling() -> None:
    plan = Plan(key="rule:nightly", arn=ARN, name="nightly", targets=(), started_by="x", expression="rate(1 hour)")
    constraints = [{"Type": "memberOf", "Expression": "attribute:zone == b"}, {"type": "distinctInstance"}]
    target = Target(id="t", arn="arn:aws:ecs:us-east-1:000000000000:cluster/c",
                    ecs_parameters=EcsParameters(task_definition_arn="batch:1", placement_constraints=constraints))
    invocation = Invocation(1, ARN, "nightly", "t", 1_800_000_000.0, False, "PENDING", "a" * 64, attempts=1)
    assert run_task_request(plan, target, invocation).placement_constraints == [
        {"type": "memberOf", "expression": "attribute:zone == b"}, {"type": "distinctInstance"}]
