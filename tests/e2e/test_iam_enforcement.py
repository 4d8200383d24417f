"""IAM enforced along the seed's chain, through a real server and boto3: the seed's roles work, and each role with
one permission removed fails with the right explanation in the invocation record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fixtures.ecs import NETWORK, execution_role, wait_stopped
from fixtures.postgres import BOTH_ENGINES
from fixtures.server import ADMIN_KEY, ADMIN_SECRET

pytestmark = BOTH_ENGINES  # every test here runs on SQLite and on PostgreSQL

SEED = Path(__file__).parents[1] / "terraform" / "seed" / "policies"  # the seed's files, byte for byte
FAMILY = "ecs-scheduled-batch-task"
GROUP = "/ecs/fargate-task-definition"


def seed_text(name: str) -> str:
    return (SEED / name).read_text()


def seed_json(name: str) -> Any:
    return json.loads(seed_text(name))


TASK_TRUST = seed_json("ecs-task-assume-role.json")


def create_role(iam: Any, name: str, trust: dict[str, Any], policy: dict[str, Any] | None, policy_name: str) -> str:
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    if policy is not None:
        policy_arn = iam.create_policy(PolicyName=policy_name, PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return arn


class Seed:
    """The seed's system built through the APIs as Terraform would: roles, task definition, rule, target."""

    def __init__(self, server: Any, admin: dict[str, str]) -> None:
        self.server = server
        self.admin = admin
        self.iam = server.client("iam", **admin)
        self.ecs = server.client("ecs", **admin)

    def build(
        self,
        *,
        drop_events_action: str | None = None,
        events_trust: dict[str, Any] | None = None,
        execution_policy: dict[str, Any] | None = None,
        command: list[str] | None = None,
        environment: dict[str, str] | None = None,
    ) -> str:
        execution = execution_policy or seed_json("ecs-task-execution-policy.json")
        exec_role = create_role(
            self.iam,
            "EcsTaskExecutionRole-sample",
            TASK_TRUST,
            execution,
            "EcsTaskExecutionPolicy-sample",
        )
        self.server.client("logs", **self.admin).create_log_group(logGroupName=GROUP)
        cluster = self.ecs.create_cluster(clusterName="default")["cluster"]["clusterArn"]
        taskdef = self.ecs.register_task_definition(
            family=FAMILY,
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            requiresCompatibilities=["FARGATE"],
            executionRoleArn=exec_role,
            taskRoleArn=exec_role,
            containerDefinitions=[
                {
                    "name": "hello",
                    "image": "busybox",
                    "cpu": 256,
                    "memory": 512,
                    "essential": True,
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": GROUP,
                            "awslogs-region": "us-east-1",
                            "awslogs-stream-prefix": "ecs",
                        },
                    },
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        policy = json.loads(seed_text("events-policy.json").replace("${task_definition_arn}", taskdef))
        policy["Statement"] = [s for s in policy["Statement"] if s["Action"] != drop_events_action]
        trust = events_trust or seed_json("events-assume-role.json")
        events_role = create_role(self.iam, "EcsEventsRole-sample", trust, policy, "EcsRunTaskEventsPolicy")
        events = self.server.client("events", **self.admin)
        events.put_rule(Name="hello", ScheduleExpression="cron(*/30 * * * ? *)")
        events.put_targets(
            Rule="hello",
            Targets=[
                {
                    "Id": "hello",
                    "Arn": cluster,
                    "RoleArn": events_role,
                    "EcsParameters": {
                        "TaskDefinitionArn": taskdef,
                        "TaskCount": 1,
                        "LaunchType": "FARGATE",
                        "PlatformVersion": "1.4.0",
                        "NetworkConfiguration": NETWORK_UPPER,
                    },
                    "Input": json.dumps(
                        {
                            "containerOverrides": [
                                {
                                    "name": "hello",
                                    "command": command or ["echo", "Hello,World!"],
                                    "environment": [{"name": k, "value": v} for k, v in (environment or {}).items()],
                                }
                            ]
                        }
                    ),
                }
            ],
        )
        return str(taskdef)

    def run_now(self) -> dict[str, Any]:
        done = self.server.post("/_cronbridge/rules/hello/run-now")
        invocation: dict[str, Any] = done["invocations"][0]
        return invocation


NETWORK_UPPER = {
    "awsvpcConfiguration": {
        "Subnets": NETWORK["awsvpcConfiguration"]["subnets"],
        "SecurityGroups": ["sg-1"],
        "AssignPublicIp": "ENABLED",
    }
}


@pytest.fixture
def seed(cronbridge_server: Any) -> Seed:
    """Test servers enforce IAM; their clients sign as the administrator."""
    return Seed(cronbridge_server, {})


def test_the_seed_events_role_runs_the_task_and_its_logs_land(seed: Seed) -> None:
    seed.build()
    invocation = seed.run_now()
    assert invocation["outcome"] == "SUCCEEDED", invocation
    task = wait_stopped(seed.ecs, "default", invocation["taskArns"][0])
    assert task["stopCode"] == "EssentialContainerExited" and task["containers"][0]["exitCode"] == 0
    logs = seed.server.client("logs", **seed.admin)
    events = logs.get_log_events(logGroupName=GROUP, logStreamName=f"ecs/hello/{task['taskArn'].split('/')[-1]}")
    assert [e["message"] for e in events["events"]] == ["Hello,World!"]


def test_without_run_task_the_invocation_fails_saying_why(seed: Seed) -> None:
    taskdef = seed.build(drop_events_action="ecs:RunTask")
    invocation = seed.run_now()
    assert (invocation["outcome"], invocation["errorCode"], invocation["attempts"]) == (
        "FAILED",
        "AccessDeniedException",
        1,
    )
    message = invocation["errorMessage"]
    assert message.splitlines()[0] == (
        "User: arn:aws:sts::000000000000:assumed-role/EcsEventsRole-sample/hello is not authorized to perform: "
        f"ecs:RunTask on resource: {taskdef} because no identity-based policy allows the ecs:RunTask action"
    )
    assert (
        "arn:aws:iam::000000000000:policy/EcsRunTaskEventsPolicy statement 1 (no Sid): "
        "Allow iam:PassRole on * -- does not apply: action not matched" in message
    )
    explained = seed.server.get(f"/_cronbridge/invocations/{invocation['id']}/explain")["explanation"]
    assert "ecs:RunTask" in explained and "EcsRunTaskEventsPolicy" in explained


def test_without_pass_role_the_invocation_fails_on_the_execution_role(seed: Seed) -> None:
    seed.build(drop_events_action="iam:PassRole")
    invocation = seed.run_now()
    assert invocation["errorCode"] == "AccessDeniedException"
    assert (
        invocation["errorMessage"]
        .splitlines()[0]
        .endswith(
            "is not authorized to perform: iam:PassRole on resource: "
            "arn:aws:iam::000000000000:role/EcsTaskExecutionRole-sample because no identity-based policy allows "
            "the iam:PassRole action"
        )
    )


def test_a_trust_policy_without_events_refuses_to_assume_the_role(seed: Seed) -> None:
    seed.build(events_trust=TASK_TRUST)
    invocation = seed.run_now()
    assert invocation["errorCode"] == "AccessDeniedException"
    assert invocation["errorMessage"].startswith(
        "events.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: "
        "arn:aws:iam::000000000000:role/EcsEventsRole-sample"
    )


def test_an_execution_role_without_logs_permissions_stops_the_task_naming_it(seed: Seed) -> None:
    no_logs = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:*"], "Resource": "*"}]}
    seed.build(execution_policy=no_logs)
    invocation = seed.run_now()
    assert invocation["outcome"] == "SUCCEEDED"
    task = wait_stopped(seed.ecs, "default", invocation["taskArns"][0])
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ResourceInitializationError: ")
    assert "logs:CreateLogStream" in task["stoppedReason"]
    explained = seed.server.get("/_cronbridge/rules/hello/explain")["explanation"]
    assert "TaskFailedToStart" in explained and "logs:CreateLogStream" in explained


def signed_as(server: Any, service: str, creds: dict[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
        **creds,
    )


def test_a_user_with_a_narrow_policy_gets_aws_access_denied(seed: Seed) -> None:
    seed.build()
    iam = seed.iam
    iam.create_user(UserName="reader")
    iam.put_user_policy(
        UserName="reader",
        PolicyName="ListOnly",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "List", "Effect": "Allow", "Action": "ecs:List*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    creds = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    ecs = signed_as(seed.server, "ecs", creds)
    assert ecs.list_clusters()["clusterArns"]
    with pytest.raises(ClientError) as caught:
        ecs.run_task(cluster="default", taskDefinition=FAMILY, networkConfiguration=NETWORK)
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: ecs:RunTask on resource: "
        f"arn:aws:ecs:us-east-1:000000000000:task-definition/{FAMILY}:1 because no identity-based policy "
        "allows the ecs:RunTask action"
    )
    with pytest.raises(ClientError) as iam_caught:
        signed_as(seed.server, "iam", creds).list_roles()
    assert iam_caught.value.response["Error"]["Code"] == "AccessDenied"
    assert iam_caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    who = signed_as(seed.server, "sts", creds).get_caller_identity()
    assert who["Arn"] == "arn:aws:iam::000000000000:user/reader"


def test_the_explain_endpoint_and_cli_name_the_deciding_statement(seed: Seed) -> None:
    taskdef = seed.build()
    session = "arn:aws:sts::000000000000:assumed-role/EcsEventsRole-sample/hello"
    found = seed.server.post(
        "/_cronbridge/explain", {"principal": session, "action": "ecs:RunTask", "resource": taskdef}
    )
    assert found["decision"] == "Allow"
    assert found["decidingStatements"] == [
        {"policy": "arn:aws:iam::000000000000:policy/EcsRunTaskEventsPolicy", "sid": None, "effect": "Allow"}
    ]
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "cronbridge",
            "explain",
            "--endpoint",
            seed.server.endpoint,
            "--principal",
            session,
            "--action",
            "ecs:StopTask",
            "--resource",
            taskdef,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AWS_ACCESS_KEY_ID": ADMIN_KEY, "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET},
    )
    assert cli.returncode == 1, cli.stderr
    assert "because no identity-based policy allows the ecs:StopTask action" in cli.stdout


def test_code_in_a_task_acts_as_the_task_role_and_nothing_more(seed: Seed) -> None:
    script = (
        "import boto3, botocore.exceptions as e\n"
        "s = boto3.client('sts', region_name='us-east-1')\n"
        "print('ARN', s.get_caller_identity()['Arn'])\n"
        "try:\n"
        "    boto3.client('ecs', region_name='us-east-1').list_clusters()\n"
        "except e.ClientError as err:\n"
        "    print('DENIED', err.response['Error']['Code'])\n"
    )
    seed.build(command=[sys.executable, "-c", script], environment={"AWS_ENDPOINT_URL": seed.server.endpoint})
    invocation = seed.run_now()
    task = wait_stopped(seed.ecs, "default", invocation["taskArns"][0], timeout=60)
    logs = seed.server.client("logs", **seed.admin)
    stream = f"ecs/hello/{task['taskArn'].split('/')[-1]}"
    lines = [e["message"] for e in logs.get_log_events(logGroupName=GROUP, logStreamName=stream)["events"]]
    assert any(
        line.startswith("ARN arn:aws:sts::000000000000:assumed-role/EcsTaskExecutionRole-sample/") for line in lines
    ), lines
    assert "DENIED AccessDeniedException" in lines


def test_the_credentials_endpoint_refuses_without_the_token(seed: Seed) -> None:
    request = urllib.request.Request(
        f"{seed.server.endpoint}/_cronbridge/task-credentials/nope", headers={"Authorization": "guess"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 403


@pytest.mark.docker
def test_a_docker_task_gets_the_credentials_variables_of_its_task_role(
    server_factory: Any, docker_engine: None, busybox_image: str
) -> None:
    server = server_factory(launcher="docker")
    ecs = server.client("ecs")
    server.client("logs").create_log_group(logGroupName=GROUP)
    ecs.create_cluster(clusterName="default")
    role = execution_role(ecs)
    ecs.register_task_definition(
        family=FAMILY,
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        requiresCompatibilities=["FARGATE"],
        executionRoleArn=role,
        taskRoleArn=role,
        containerDefinitions=[
            {
                "name": "hello",
                "image": busybox_image,
                "essential": True,
                "command": ["env"],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"},
                },
            }
        ],
    )
    arn = ecs.run_task(cluster="default", taskDefinition=FAMILY, networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    task_id = wait_stopped(ecs, "default", arn, timeout=60)["taskArn"].rsplit("/", 1)[-1]
    lines = [
        e["message"]
        for e in server.client("logs").get_log_events(
            logGroupName=GROUP, logStreamName=f"ecs/hello/{task_id}", startFromHead=True
        )["events"]
    ]
    assert f"AWS_CONTAINER_CREDENTIALS_FULL_URI={server.endpoint}/_cronbridge/task-credentials/{task_id}" in lines
    assert any(line.startswith("AWS_CONTAINER_AUTHORIZATION_TOKEN=") and len(line) > 40 for line in lines)


def test_a_role_session_is_limited_by_its_session_policy(cronbridge_server: Any) -> None:
    iam, sts = cronbridge_server.client("iam"), cronbridge_server.client("sts")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}}
        ],
    }
    role = create_role(
        iam,
        "Operator",
        trust,
        {"Version": "2012-10-17", "Statement": [{"Sid": "Ecs", "Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]},
        "EcsAll",
    )
    session = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"}]}
    )
    creds = sts.assume_role(RoleArn=role, RoleSessionName="narrow", Policy=session)["Credentials"]
    ecs = signed_as(
        cronbridge_server,
        "ecs",
        {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        },
    )
    assert ecs.list_clusters()["clusterArns"] == []
    with pytest.raises(ClientError) as caught:
        ecs.describe_clusters(clusters=["default"])
    assert caught.value.response["Error"]["Message"] == (
        "User: arn:aws:sts::000000000000:assumed-role/Operator/narrow is not authorized to perform: "
        "ecs:DescribeClusters on resource: arn:aws:ecs:us-east-1:000000000000:cluster/default because no session "
        "policy allows the ecs:DescribeClusters action"
    )


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"action": "ecs:RunTask"}',
        b'{"principal": "arn:aws:iam::000000000000:user/x", "action": "a:b", "context": {"k": 1}}',
    ],
)
def test_the_explain_endpoint_refuses_bad_requests_with_a_reason(cronbridge_server: Any, payload: bytes) -> None:
    request = cronbridge_server.signed_request("POST", "/_cronbridge/explain", payload)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    body = json.loads(caught.value.read())
    assert caught.value.code == 400 and body["__type"] == "ValidationException" and body["message"]
    assert cronbridge_server.get("/_cronbridge/health")["status"] == "ok"  # and the server keeps serving
