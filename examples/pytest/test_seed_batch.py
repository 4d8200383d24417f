"""The seed's scheduled batch, tested against a local cronbridge with the pytest plugin (pip install cronbridge).

The rule `hello` runs `cron(*/30 * * * ? *)`: an ECS Fargate task whose container says Hello,World! through the
awslogs driver into /ecs/fargate-task-definition. The server's clock is manual, so the test moves it 30 minutes and
the rule fires; the process launcher runs the container's command as a local process (no Docker needed).
"""

import json


def trust(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def role(iam, name, service, actions, resource="*"):
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))["Role"]["Arn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    iam.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
    return arn


def create_seed(client, command=("echo", "Hello,World!")):
    """What the seed's Terraform declares: cluster, log group, roles, task definition, rule and target."""
    ecs, events, logs, iam = client("ecs"), client("events"), client("logs"), client("iam")
    cluster = ecs.create_cluster(clusterName="ecs-scheduled-batch")["cluster"]["clusterArn"]
    logs.create_log_group(logGroupName="/ecs/fargate-task-definition")
    execution_role = role(iam, "EcsTaskExecutionRole-sample", "ecs-tasks.amazonaws.com",
                          ["logs:CreateLogStream", "logs:PutLogEvents"])
    task_definition = ecs.register_task_definition(
        family="ecs-scheduled-batch-task", networkMode="awsvpc", cpu="256", memory="512",
        requiresCompatibilities=["FARGATE"], executionRoleArn=execution_role,
        containerDefinitions=[{
            "name": "hello", "image": "busybox", "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/fargate-task-definition", "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "ecs"}},
        }],
    )["taskDefinition"]["taskDefinitionArn"]
    events_role = role(iam, "EcsEventsRole-sample", "events.amazonaws.com", ["ecs:RunTask", "iam:PassRole"])
    events.put_rule(Name="hello", ScheduleExpression="cron(*/30 * * * ? *)", State="ENABLED")
    events.put_targets(Rule="hello", Targets=[{
        "Id": "hello", "Arn": cluster, "RoleArn": events_role,
        "EcsParameters": {
            "TaskDefinitionArn": task_definition, "TaskCount": 1, "LaunchType": "FARGATE",
            "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-local"]}},
        },
        "Input": json.dumps({"containerOverrides": [{"name": "hello", "command": list(command)}]}),
    }])


def test_the_rule_fires_every_30_minutes_and_the_task_logs_hello(cronbridge, cronbridge_client, cronbridge_clock):
    create_seed(cronbridge_client)

    cronbridge_clock.advance(minutes=30)  # past the next :00 or :30: the rule fires once

    [invocation] = cronbridge.wait_for_invocations("hello")
    assert invocation["outcome"] == "SUCCEEDED"
    [task] = cronbridge.wait_for_tasks(invocation["taskArns"])
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 0
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    events = cronbridge_client("logs").get_log_events(
        logGroupName="/ecs/fargate-task-definition", logStreamName=f"ecs/hello/{task_id}", startFromHead=True,
    )["events"]
    assert [e["message"] for e in events] == ["Hello,World!"]


def test_code_that_builds_its_own_clients_reaches_cronbridge(cronbridge, cronbridge_env):
    import boto3

    boto3.client("ecs").create_cluster(clusterName="made-by-the-code-under-test")
    clusters = cronbridge.client("ecs").list_clusters()["clusterArns"]
    assert [arn.rsplit("/", 1)[-1] for arn in clusters] == ["made-by-the-code-under-test"]


def test_a_failed_run_reads_failed_with_its_exit_code(cronbridge, cronbridge_client, cronbridge_clock):
    import os
    import subprocess
    import sys

    create_seed(cronbridge_client, command=["sh", "-c", "echo about to fail; exit 3"])

    cronbridge_clock.advance(minutes=30)

    [invocation] = cronbridge.wait_for_invocations("hello")
    cronbridge.wait_for_tasks(invocation["taskArns"])
    shown = subprocess.run(  # the CLI, as a person (or CI) would ask
        [sys.executable, "-m", "cronbridge", "invocations", "hello", "-o", "json"],
        env={**os.environ, **cronbridge.env}, capture_output=True, text=True, check=True,
    )
    [latest] = json.loads(shown.stdout)["invocations"]
    assert latest["outcome"] == "SUCCEEDED"  # EventBridge launched the task...
    assert latest["result"] == "FAILED (exit 3)"  # ...and the task failed
    assert latest["taskOutcome"]["stopCode"] == "EssentialContainerExited"
