"""Placement constraints through boto3 against a real server (process launcher: this machine is the cluster's one
container instance): ECS's refusals, a task placed where its expression holds, and a task that fits nowhere answered
in failures[] and never started."""

from __future__ import annotations

import platform
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.ecs import NETWORK, register, wait_stopped

ON_THIS_OS = {"type": "memberOf", "expression": f"attribute:ecs.os-type == {platform.system().lower()}"}
IN_ZONE_B = {"type": "memberOf", "expression": "attribute:zone == b"}
DISTINCT = {"type": "distinctInstance"}
SLEEP = {"containerOverrides": [{"name": "app", "command": ["sleep", "20"]}]}


@pytest.fixture
def ecs(cronbridge_server: Any) -> Any:
    cronbridge_server.client("logs").create_log_group(logGroupName="/ecs/test")
    client = cronbridge_server.client("ecs")
    client.create_cluster(clusterName="work")
    return client


def _error(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _run(ecs: Any, family: str, **params: Any) -> dict[str, Any]:
    return dict(ecs.run_task(cluster="work", taskDefinition=family, networkConfiguration=NETWORK, **params))


def test_a_task_definition_refuses_distinct_instance_and_bad_expressions(ecs: Any) -> None:
    assert _error(register, ecs=ecs, placementConstraints=[DISTINCT]) == (
        "ClientException", "constraint.type 'distinctInstance' is not supported.")
    code, message = _error(register, ecs=ecs, placementConstraints=[{"type": "memberOf", "expression": "zone == b"}])
    assert (code, message) == ("ClientException", "Invalid placement constraint expression 'zone == b': "
                                                  "unknown subject 'zone'.")
    assert _error(register, ecs=ecs, placementConstraints=[IN_ZONE_B] * 11)[0] == "ClientException"


def test_run_task_refuses_constraints_as_ecs_does(ecs: Any) -> None:
    register(ecs)
    with_expression = {"type": "distinctInstance", "expression": "attribute:zone == b"}
    assert _error(_run, ecs=ecs, family="batch", placementConstraints=[with_expression]) == (
        "InvalidParameterException", "distinctInstance expression should not be specified.")
    assert _error(_run, ecs=ecs, family="batch", placementConstraints=[{"type": "memberOf"}]) == (
        "InvalidParameterException", "memberOf expression should be specified.")
    code, message = _error(_run, ecs=ecs, family="batch", placementConstraints=[{"type": "sameInstance"}])
    assert code == "InvalidParameterException" and "enum value set: [distinctInstance, memberOf]" in message
    code, message = _error(_run, ecs=ecs, family="batch", placementConstraints=[IN_ZONE_B] * 11)
    assert (code, message) == ("InvalidParameterException", "Too many placement constraints: a task can have at "
                                                             "most 10, including those of its task definition.")
    code, message = _error(_run, ecs=ecs, family="batch",
                           placementConstraints=[{"type": "memberOf", "expression": "task:group == service:web"}])
    assert code == "ClientException" and "task:group" in message
    assert ecs.list_tasks(cluster="work", desiredStatus="STOPPED")["taskArns"] == []


def test_a_task_whose_constraints_this_machine_satisfies_runs_on_it(ecs: Any) -> None:
    register(ecs, placementConstraints=[ON_THIS_OS])
    result = _run(ecs, "batch", overrides={"containerOverrides": [{"name": "app", "command": ["true"]}]})
    assert result["failures"] == []
    task = wait_stopped(ecs, "work", result["tasks"][0]["taskArn"])
    assert task["containers"][0]["exitCode"] == 0
    assert task["containerInstanceArn"].startswith("arn:aws:ecs:us-east-1:000000000000:container-instance/work/")


def test_a_task_no_instance_satisfies_is_a_member_failure_and_never_starts(ecs: Any) -> None:
    register(ecs, placementConstraints=[IN_ZONE_B])
    result = _run(ecs, "batch", count=2)
    assert result["tasks"] == []
    [failure] = result["failures"]
    assert failure["reason"] == "MEMBER"
    assert failure["arn"].startswith("arn:aws:ecs:us-east-1:000000000000:container-instance/work/")
    assert failure["detail"].endswith("does not satisfy memberOf(attribute:zone == b)")
    for status in ("RUNNING", "STOPPED"):
        assert ecs.list_tasks(cluster="work", desiredStatus=status)["taskArns"] == []


def test_distinct_instance_runs_one_task_of_a_group_on_the_one_machine(ecs: Any) -> None:
    register(ecs)
    first = _run(ecs, "batch", count=2, placementConstraints=[DISTINCT], overrides=SLEEP)
    assert len(first["tasks"]) == 1
    assert [f["reason"] for f in first["failures"]] == ["DISTINCT_INSTANCE"]
    assert first["failures"][0]["arn"] == first["tasks"][0]["containerInstanceArn"]
    again = _run(ecs, "batch", placementConstraints=[DISTINCT], overrides=SLEEP)
    assert again["tasks"] == [] and again["failures"][0]["detail"].endswith("already runs a task of group family:batch")
    other = _run(ecs, "batch", group="other", placementConstraints=[DISTINCT], overrides=SLEEP)
    assert len(other["tasks"]) == 1
    for task in first["tasks"] + other["tasks"]:
        ecs.stop_task(cluster="work", task=task["taskArn"])
        wait_stopped(ecs, "work", task["taskArn"])
    [last] = _run(ecs, "batch", placementConstraints=[DISTINCT], overrides=SLEEP)["tasks"]  # the group's are gone
    ecs.stop_task(cluster="work", task=last["taskArn"])
    wait_stopped(ecs, "work", last["taskArn"])
