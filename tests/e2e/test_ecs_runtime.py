"""ECS through boto3 against a real server: task definition validation, RunTask's answers, stopped-task expiry,
and process tasks across a server restart."""

from __future__ import annotations

import os
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.ecs import NETWORK, container, execution_role, register, wait_stopped


@pytest.fixture
def ecs(cronbridge_server: Any) -> Any:
    cronbridge_server.client("logs").create_log_group(logGroupName="/ecs/test")
    client = cronbridge_server.client("ecs")
    client.create_cluster(clusterName="work")
    return client


def _client_error(ecs: Any, **extra: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        register(ecs, **extra)
    return dict(caught.value.response)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"cpu": "300"}, "Invalid 'cpu' setting for task."),
        ({"cpu": "256", "memory": "4096"}, "Invalid 'memory' setting for task."),
        ({"containerDefinitions": [container(memory=1024)]}, "is above the task's memory"),
        ({"containerDefinitions": [{"name": "app"}]}, "Container.image should not be null or empty."),
        ({"containerDefinitions": [container(), container()]}, "Container names must be unique."),
        ({"containerDefinitions": [container(essential=False)]}, "at least one essential container"),
        ({"containerDefinitions": [container(dependsOn=[{"containerName": "ghost", "condition": "START"}])]},
         "depends on unknown container 'ghost'"),
        ({"containerDefinitions": [container(dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]),
                                   container("db")]}, "which has no healthCheck"),
        ({"containerDefinitions": [container(dependsOn=[{"containerName": "init", "condition": "SUCCESS"}]),
                                   container("init")]}, "needs a non-essential container"),
        ({"containerDefinitions": [container(dependsOn=[{"containerName": "b", "condition": "START"}]),
                                   container("b", dependsOn=[{"containerName": "app", "condition": "START"}])]},
         "form a cycle"),
        ({"containerDefinitions": [container(mountPoints=[{"sourceVolume": "data", "containerPath": "/data"}])]},
         "Unknown volume 'data'."),
        ({"containerDefinitions": [container(healthCheck={"command": ["CMD-SHELL", "true"], "interval": 1})]},
         "Invalid healthCheck interval"),
    ],
)
def test_register_task_definition_rejects_what_ecs_rejects(ecs: Any, extra: dict[str, Any], message: str) -> None:
    response = _client_error(ecs, **extra)
    assert response["Error"]["Code"] == "ClientException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message in response["Error"]["Message"]


def test_a_registration_without_container_definitions_is_refused(ecs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        ecs.register_task_definition(family="x", containerDefinitions=[])
    assert caught.value.response["Error"]["Code"] == "ClientException"


def test_overrides_longer_than_8192_characters_are_refused(ecs: Any) -> None:
    register(ecs)
    overrides = {"containerOverrides": [{"name": "app", "command": ["echo", "x" * 8200]}]}
    with pytest.raises(ClientError) as caught:
        ecs.run_task(cluster="work", taskDefinition="batch", overrides=overrides, networkConfiguration=NETWORK)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "8192" in caught.value.response["Error"]["Message"]


def test_run_task_keeps_group_tags_and_count(ecs: Any) -> None:
    register(ecs)
    result = ecs.run_task(cluster="work", taskDefinition="batch", networkConfiguration=NETWORK, count=3,
                          group="nightly", tags=[{"key": "team", "value": "data"}],
                          overrides={"containerOverrides": [{"name": "app", "command": ["true"]}]})
    assert len(result["tasks"]) == 3 and result["failures"] == []
    arns = [t["taskArn"] for t in result["tasks"]]
    for arn in arns:
        wait_stopped(ecs, "work", arn)
    described = ecs.describe_tasks(cluster="work", tasks=arns, include=["TAGS"])["tasks"]
    assert {t["group"] for t in described} == {"nightly"}
    assert all(t["tags"] == [{"key": "team", "value": "data"}] for t in described)


def test_a_task_bigger_than_the_machine_is_a_placement_failure(ecs: Any) -> None:
    ecs.register_task_definition(
        family="huge", networkMode="awsvpc", cpu="16384", memory="32768", requiresCompatibilities=["FARGATE"],
        containerDefinitions=[container()], executionRoleArn=execution_role(ecs))
    result = ecs.run_task(cluster="work", taskDefinition="huge", networkConfiguration=NETWORK)
    if (os.cpu_count() or 1) * 1024 >= 16384:
        pytest.fail("this machine is too big for the test's task")  # pragma: no cover
    assert result["tasks"] == []
    assert result["failures"][0]["reason"] == "RESOURCE:CPU"


def test_stopped_tasks_stay_visible_for_an_hour_then_expire(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    ecs = server.client("ecs")
    server.client("logs").create_log_group(logGroupName="/ecs/test")
    ecs.create_cluster(clusterName="work")
    register(ecs)
    arn = ecs.run_task(cluster="work", taskDefinition="batch", networkConfiguration=NETWORK,
                       overrides={"containerOverrides": [{"name": "app", "command": ["true"]}]})["tasks"][0]["taskArn"]
    wait_stopped(ecs, "work", arn)
    server.advance_clock(3599)
    assert ecs.describe_tasks(cluster="work", tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED"
    server.advance_clock(2)
    assert ecs.describe_tasks(cluster="work", tasks=[arn])["failures"] == [{"arn": arn, "reason": "MISSING"}]


def test_a_process_task_whose_runner_died_is_adopted_with_the_same_process(server_factory: Any) -> None:
    """The process outlives its runner (its monitor holds it); the next server follows that very process, and
    StopTask still ends it."""
    server = server_factory()
    ecs = server.client("ecs")
    server.client("logs").create_log_group(logGroupName="/ecs/test")
    ecs.create_cluster(clusterName="work")
    register(ecs)
    overrides = {"containerOverrides": [{"name": "app", "command": ["sleep", "300"]}]}
    arn = ecs.run_task(cluster="work", taskDefinition="batch", overrides=overrides,
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    runtime_id = ""
    for _ in range(100):
        runtime_id = ecs.describe_tasks(cluster="work", tasks=[arn])["tasks"][0]["containers"][0].get("runtimeId", "")
        if runtime_id:
            break
        time.sleep(0.05)
    pid = int(runtime_id.split("-")[1])
    server.kill()
    assert os.path.exists(f"/proc/{pid}")  # the process outlived its runner
    server.start()
    ecs = server.client("ecs")
    task = ecs.describe_tasks(cluster="work", tasks=[arn])["tasks"][0]
    assert task["lastStatus"] == "RUNNING" and task["containers"][0]["runtimeId"] == runtime_id
    ecs.stop_task(cluster="work", task=arn)
    assert wait_stopped(ecs, "work", arn, timeout=60)["stopCode"] == "UserInitiated"
    for _ in range(100):
        if _gone(pid):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"process {pid} still runs")


def _gone(pid: int) -> bool:
    """Ended (or a zombie waiting for its new parent to reap it)."""
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True


def test_the_events_endpoint_pages_and_refuses_bad_numbers(ecs: Any, cronbridge_server: Any) -> None:
    register(ecs)
    arn = ecs.run_task(cluster="work", taskDefinition="batch", networkConfiguration=NETWORK,
                       overrides={"containerOverrides": [{"name": "app", "command": ["true"]}]})["tasks"][0]["taskArn"]
    wait_stopped(ecs, "work", arn)
    first = cronbridge_server.get("/_cronbridge/events?source=aws.ecs&limit=2")
    assert len(first["events"]) == 2 and first["next"] is not None
    rest = cronbridge_server.get(f"/_cronbridge/events?source=aws.ecs&after={first['next']}")["events"]
    assert rest[-1]["detail"]["lastStatus"] == "STOPPED" and rest[-1]["detail"]["taskArn"] == arn
    assert cronbridge_server.get("/_cronbridge/events?source=aws.s3")["events"] == []
    with pytest.raises(urllib.error.HTTPError) as caught:
        cronbridge_server.get("/_cronbridge/events?limit=many")
    assert caught.value.code == 400
