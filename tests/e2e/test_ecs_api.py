"""ECS through boto3 against a real server: clusters, task definitions, RunTask and the task lifecycle."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.ecs import NETWORK, register, wait_stopped


@pytest.fixture
def ecs(cronbridge_server: Any) -> Any:
    cronbridge_server.client("logs").create_log_group(logGroupName="/ecs/test")
    client = cronbridge_server.client("ecs")
    client.create_cluster(clusterName="work")
    return client


def test_a_cluster_is_created_listed_described_and_deleted(ecs: Any) -> None:
    arn = ecs.describe_clusters(clusters=["work"])["clusters"][0]["clusterArn"]
    assert arn == "arn:aws:ecs:us-east-1:000000000000:cluster/work"
    assert arn in ecs.list_clusters()["clusterArns"]
    assert ecs.delete_cluster(cluster="work")["cluster"]["status"] == "INACTIVE"
    missing = "arn:aws:ecs:us-east-1:000000000000:cluster/never"
    assert ecs.describe_clusters(clusters=["never"])["failures"] == [{"arn": missing, "reason": "MISSING"}]


def test_a_deleted_cluster_stays_discoverable_as_inactive_until_it_is_created_again(ecs: Any) -> None:
    arn = ecs.delete_cluster(cluster="work")["cluster"]["clusterArn"]
    assert arn in ecs.list_clusters()["clusterArns"]
    assert [c["status"] for c in ecs.describe_clusters(clusters=[arn])["clusters"]] == ["INACTIVE"]
    with pytest.raises(ClientError) as refused:
        ecs.run_task(cluster="work", taskDefinition=register(ecs), networkConfiguration=NETWORK)
    assert refused.value.response["Error"]["Code"] == "ClusterNotFoundException"
    with pytest.raises(ClientError):
        ecs.delete_cluster(cluster="work")
    ecs.create_cluster(clusterName="work")
    assert [c["status"] for c in ecs.describe_clusters(clusters=[arn])["clusters"]] == ["ACTIVE"]
    assert ecs.list_clusters()["clusterArns"].count(arn) == 1


def test_task_definitions_keep_revisions_and_resolve_the_latest(ecs: Any) -> None:
    first, second = register(ecs), register(ecs)
    assert first.endswith("task-definition/batch:1") and second.endswith("task-definition/batch:2")
    assert ecs.describe_task_definition(taskDefinition="batch")["taskDefinition"]["revision"] == 2
    ecs.deregister_task_definition(taskDefinition="batch:2")
    assert ecs.describe_task_definition(taskDefinition="batch")["taskDefinition"]["revision"] == 1
    assert ecs.describe_task_definition(taskDefinition="batch:2")["taskDefinition"]["status"] == "INACTIVE"
    with pytest.raises(ClientError) as missing:
        ecs.deregister_task_definition(taskDefinition="batch:9")
    assert missing.value.response["Error"] == {
        "Code": "ClientException", "Message": "Unable to describe task definition."
    }


def test_a_task_definition_shows_ecs_defaults_network_mode_bridge_and_empty_lists(ecs: Any) -> None:
    ecs.register_task_definition(family="ec2", requiresCompatibilities=["EC2"],
                                 containerDefinitions=[{"name": "app", "image": "busybox", "memory": 64}])
    shown = ecs.describe_task_definition(taskDefinition="ec2")["taskDefinition"]
    assert shown["networkMode"] == "bridge" and shown["volumes"] == shown["placementConstraints"] == []
    assert shown["compatibilities"] == ["EC2"]  # bridge cannot run on Fargate
    assert shown["containerDefinitions"] == [{  # ECS's defaults, shown as ECS shows them
        "name": "app", "image": "busybox", "memory": 64, "cpu": 0, "essential": True, "portMappings": [],
        "environment": [], "mountPoints": [], "volumesFrom": []}]
    register(ecs)
    assert ecs.describe_task_definition(taskDefinition="batch")["taskDefinition"]["networkMode"] == "awsvpc"


def test_an_efs_volume_without_a_root_directory_shows_the_file_systems_root(ecs: Any) -> None:
    efs = {"fileSystemId": "fs-1", "transitEncryption": "ENABLED"}
    ecs.register_task_definition(family="efs", containerDefinitions=[{"name": "app", "image": "busybox", "memory": 64}],
                                 volumes=[{"name": "data", "efsVolumeConfiguration": efs},
                                          {"name": "sub", "efsVolumeConfiguration": {**efs, "rootDirectory": "/a"}}])
    shown = ecs.describe_task_definition(taskDefinition="efs")["taskDefinition"]["volumes"]
    assert [v["efsVolumeConfiguration"]["rootDirectory"] for v in shown] == ["/", "/a"]


def test_a_log_configuration_without_options_is_shown_without_them(ecs: Any) -> None:
    ecs.register_task_definition(family="plain", containerDefinitions=[
        {"name": "app", "image": "busybox", "memory": 64, "logConfiguration": {"logDriver": "json-file"}}])
    shown = ecs.describe_task_definition(taskDefinition="plain")["taskDefinition"]["containerDefinitions"][0]
    assert shown["logConfiguration"] == {"logDriver": "json-file"}


def test_a_task_definition_keeps_its_proxy_configuration_and_inference_accelerators(ecs: Any) -> None:
    proxy = {"type": "APPMESH", "containerName": "app"}
    accelerators = [{"deviceName": "dn", "deviceType": "eia2.medium"}]
    ecs.register_task_definition(family="mesh", proxyConfiguration=proxy, inferenceAccelerators=accelerators,
                                 containerDefinitions=[{"name": "app", "image": "busybox", "memory": 64}])
    shown = ecs.describe_task_definition(taskDefinition="mesh")["taskDefinition"]
    assert shown["proxyConfiguration"] == proxy and shown["inferenceAccelerators"] == accelerators


def test_an_invalid_fargate_size_is_a_client_exception(ecs: Any) -> None:
    with pytest.raises(ClientError) as caught:
        register(ecs, cpu="256", memory="4096")
    assert caught.value.response["Error"]["Code"] == "ClientException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_task_runs_its_command_override_and_stops_with_ecs_stop_code(ecs: Any, cronbridge_server: Any) -> None:
    register(ecs)
    overrides = {"containerOverrides": [{"name": "app", "command": ["echo", "Hello,World!"]}]}
    task = ecs.run_task(cluster="work", taskDefinition="batch", overrides=overrides,
                        networkConfiguration=NETWORK, startedBy="me")["tasks"][0]
    assert task["lastStatus"] in ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "STOPPED")
    stopped = wait_stopped(ecs, "work", task["taskArn"])
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["containers"][0]["exitCode"] == 0
    assert stopped["startedBy"] == "me"
    assert stopped["overrides"] == {**overrides, "inferenceAcceleratorOverrides": []}  # as ECS shows them
    assert {"name": "cronbridge.launcher", "value": "process"} in stopped["attributes"]
    for key in ("createdAt", "startedAt", "stoppedAt"):
        assert key in stopped
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    events = cronbridge_server.client("logs").get_log_events(
        logGroupName="/ecs/test", logStreamName=f"ecs/app/{task_id}", startFromHead=True)["events"]
    assert [e["message"] for e in events] == ["Hello,World!"]


def test_a_failing_command_reports_its_exit_code(ecs: Any) -> None:
    register(ecs)
    overrides = {"containerOverrides": [{"name": "app", "command": ["sh", "-c", "exit 3"]}]}
    arn = ecs.run_task(cluster="work", taskDefinition="batch", overrides=overrides,
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    assert wait_stopped(ecs, "work", arn)["containers"][0]["exitCode"] == 3


def test_stop_task_ends_a_running_task_as_user_initiated(ecs: Any) -> None:
    register(ecs)
    overrides = {"containerOverrides": [{"name": "app", "command": ["sleep", "60"]}]}
    arn = ecs.run_task(cluster="work", taskDefinition="batch", overrides=overrides,
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    time.sleep(0.3)
    ecs.stop_task(cluster="work", task=arn, reason="enough")
    stopped = wait_stopped(ecs, "work", arn)
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "enough"


def test_a_missing_log_group_fails_the_task_at_log_set_up(ecs: Any, cronbridge_server: Any) -> None:
    cronbridge_server.client("logs").delete_log_group(logGroupName="/ecs/test")
    register(ecs)
    arn = ecs.run_task(cluster="work", taskDefinition="batch", networkConfiguration=NETWORK,
                       overrides={"containerOverrides": [{"name": "app", "command": ["true"]}]})["tasks"][0]["taskArn"]
    stopped = wait_stopped(ecs, "work", arn)
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("ResourceInitializationError: failed to validate logger args")


def test_list_tasks_filters_by_started_by_and_desired_status(ecs: Any) -> None:
    register(ecs)
    overrides = {"containerOverrides": [{"name": "app", "command": ["true"]}]}
    arn = ecs.run_task(cluster="work", taskDefinition="batch", overrides=overrides,
                       networkConfiguration=NETWORK, startedBy="events-rule/x")["tasks"][0]["taskArn"]
    wait_stopped(ecs, "work", arn)
    assert ecs.list_tasks(cluster="work", startedBy="events-rule/x", desiredStatus="STOPPED")["taskArns"] == [arn]
    assert ecs.list_tasks(cluster="work", startedBy="someone-else", desiredStatus="STOPPED")["taskArns"] == []


def test_the_same_client_token_returns_the_same_task(ecs: Any) -> None:
    register(ecs)
    params = {"cluster": "work", "taskDefinition": "batch", "networkConfiguration": NETWORK,
              "overrides": {"containerOverrides": [{"name": "app", "command": ["true"]}]}, "clientToken": "tok-1"}
    first = ecs.run_task(**params)["tasks"][0]["taskArn"]
    assert ecs.run_task(**params)["tasks"][0]["taskArn"] == first
    with pytest.raises(ClientError) as caught:
        ecs.run_task(**{**params, "count": 2})
    assert caught.value.response["Error"]["Code"] == "ConflictException"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cluster": "nope", "taskDefinition": "batch"}, "ClusterNotFoundException"),
        ({"cluster": "work", "taskDefinition": "missing"}, "ClientException"),
        ({"cluster": "work", "taskDefinition": "batch", "count": 11}, "InvalidParameterException"),
        ({"cluster": "work", "taskDefinition": "batch",
          "overrides": {"containerOverrides": [{"name": "ghost", "command": ["x"]}]}}, "InvalidParameterException"),
    ],
)
def test_bad_run_task_calls_get_ecs_errors(ecs: Any, params: dict[str, Any], code: str) -> None:
    register(ecs)
    with pytest.raises(ClientError) as caught:
        ecs.run_task(networkConfiguration=NETWORK, **params)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"executionRoleArn": None},
         "Fargate requires task definition to have execution role ARN to support log driver awslogs."),
        ({"pidMode": "host"},
         "Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is "
         "'task'."),
        ({"ipcMode": "task"}, "Tasks using the Fargate launch type do not support ipcMode."),
    ],
)
def test_fargate_refuses_at_register_task_definition_what_it_cannot_run(
    ecs: Any, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        if extra.get("executionRoleArn", "") is None:
            ecs.register_task_definition(
                family="batch", networkMode="awsvpc", cpu="256", memory="512", requiresCompatibilities=["FARGATE"],
                containerDefinitions=[{"name": "app", "image": "busybox", "logConfiguration": {
                    "logDriver": "awslogs", "options": {"awslogs-group": "/ecs/test", "awslogs-region": "us-east-1",
                                                        "awslogs-stream-prefix": "ecs"}}}],
            )
        else:
            register(ecs, **extra)
    assert caught.value.response["Error"] == {"Code": "ClientException", "Message": message}
    assert ecs.list_task_definitions()["taskDefinitionArns"] == []


def test_run_task_refuses_a_launch_type_with_a_capacity_provider_strategy(ecs: Any) -> None:
    register(ecs)
    with pytest.raises(ClientError) as caught:
        ecs.run_task(cluster="work", taskDefinition="batch", networkConfiguration=NETWORK, launchType="FARGATE",
                     capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    assert caught.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "Specifying both a launch type and capacity provider strategy is not supported. Remove one and "
        "try again.",
    }


def test_a_task_run_with_a_capacity_provider_strategy_names_its_capacity_provider(ecs: Any) -> None:
    register(ecs)
    [task] = ecs.run_task(cluster="work", taskDefinition="batch", networkConfiguration=NETWORK,
                          capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])["tasks"]
    assert task["capacityProviderName"] == "FARGATE_SPOT"
    ecs.create_cluster(clusterName="spot", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                       defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                                                        {"capacityProvider": "FARGATE_SPOT", "weight": 4}])
    [task] = ecs.run_task(cluster="spot", taskDefinition="batch", networkConfiguration=NETWORK)["tasks"]
    assert task["capacityProviderName"] == "FARGATE"  # the cluster's default strategy; its base goes first
    [task] = ecs.run_task(cluster="spot", taskDefinition="batch", networkConfiguration=NETWORK,
                          launchType="FARGATE")["tasks"]
    assert "capacityProviderName" not in task


def test_list_task_definitions_family_prefix_is_the_whole_family_name(ecs: Any) -> None:
    batch = register(ecs)
    register(ecs, family="batch-nightly")
    assert ecs.list_task_definitions(familyPrefix="batch")["taskDefinitionArns"] == [batch]
    assert ecs.list_task_definitions(familyPrefix="bat")["taskDefinitionArns"] == []
    assert ecs.list_task_definition_families(familyPrefix="bat")["families"] == ["batch", "batch-nightly"]


def test_cluster_and_task_definition_tags_are_read_and_changed_with_the_tagging_calls(ecs: Any) -> None:
    cluster = ecs.create_cluster(clusterName="tagged", tags=[{"key": "team", "value": "data"}])["cluster"]
    assert cluster["tags"] == [{"key": "team", "value": "data"}]
    assert "tags" not in ecs.describe_clusters(clusters=["tagged"])["clusters"][0]  # only with include=["TAGS"]
    ecs.tag_resource(resourceArn=cluster["clusterArn"], tags=[{"key": "env", "value": "dev"}])
    ecs.untag_resource(resourceArn=cluster["clusterArn"], tagKeys=["team"])
    assert ecs.list_tags_for_resource(resourceArn=cluster["clusterArn"])["tags"] == [{"key": "env", "value": "dev"}]
    described = ecs.describe_clusters(clusters=["tagged"], include=["TAGS", "SETTINGS"])["clusters"][0]
    assert described["tags"] == [{"key": "env", "value": "dev"}]
    assert described["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    definition = register(ecs, tags=[{"key": "a", "value": "1"}])
    ecs.tag_resource(resourceArn=definition, tags=[{"key": "b", "value": "2"}])
    assert ecs.list_tags_for_resource(resourceArn=definition)["tags"] == [
        {"key": "a", "value": "1"}, {"key": "b", "value": "2"}
    ]
    with pytest.raises(ClientError) as caught:
        ecs.list_tags_for_resource(resourceArn="arn:aws:ecs:us-east-1:000000000000:cluster/nope")
    assert caught.value.response["Error"]["Code"] == "ClusterNotFoundException"


def test_update_cluster_changes_its_settings_and_configuration(ecs: Any) -> None:
    updated = ecs.update_cluster(
        cluster="work", settings=[{"name": "containerInsights", "value": "enabled"}],
        configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}},
    )["cluster"]
    assert updated["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    described = ecs.describe_clusters(clusters=["work"], include=["SETTINGS", "CONFIGURATIONS"])["clusters"][0]
    assert described["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert described["configuration"] == {"executeCommandConfiguration": {"logging": "DEFAULT"}}
