"""Fill a running cronbridge server with one of each kind of state (used to make the release databases that the
migration tests open: run a release's server, then `python tests/store/migrations/populate.py ENDPOINT`)."""

from __future__ import annotations

import json
import sys
import time
import urllib.request

import boto3

KEY, SECRET, REGION = "AKIDTEST", "secret", "us-east-1"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
LOGS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}


def client(endpoint: str, service: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=KEY, aws_secret_access_key=SECRET)


def populate(endpoint: str) -> None:
    iam, ecs, logs, events = (client(endpoint, s) for s in ("iam", "ecs", "logs", "events"))
    sqs, cw, scheduler = (client(endpoint, s) for s in ("sqs", "cloudwatch", "scheduler"))
    role = iam.create_role(RoleName="exec", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName="exec", PolicyName="logs", PolicyDocument=json.dumps(LOGS))
    iam.create_user(UserName="alice")
    iam.create_access_key(UserName="alice")
    managed = iam.create_policy(PolicyName="readonly", PolicyDocument=json.dumps(LOGS))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="alice", PolicyArn=managed)
    ecs.create_cluster(clusterName="batch", tags=[{"key": "team", "value": "data"}])
    logs.create_log_group(logGroupName="/ecs/batch")
    logs.create_log_stream(logGroupName="/ecs/batch", logStreamName="manual")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/ecs/batch", logStreamName="manual",
                        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(5)])
    definition = ecs.register_task_definition(
        family="batch", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        executionRoleArn=role, containerDefinitions=[{
            "name": "app", "image": "busybox", "essential": True, "command": ["echo", "hello"],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/batch", "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}}}],
    )["taskDefinition"]["taskDefinitionArn"]
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}}
    task = ecs.run_task(cluster="batch", taskDefinition="batch", launchType="FARGATE",
                        networkConfiguration=network)["tasks"][0]["taskArn"]
    events.put_rule(Name="every-30", ScheduleExpression="cron(*/30 * * * ? *)")
    events.put_targets(Rule="every-30", Targets=[{
        "Id": "batch", "Arn": "arn:aws:ecs:us-east-1:000000000000:cluster/batch", "RoleArn": role,
        "EcsParameters": {"TaskDefinitionArn": definition, "LaunchType": "FARGATE", "NetworkConfiguration": {
            "awsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "DISABLED"}}}}])
    scheduler.create_schedule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)",
                              FlexibleTimeWindow={"Mode": "OFF"},
                              Target={"Arn": "arn:aws:ecs:us-east-1:000000000000:cluster/batch", "RoleArn": role,
                                      "EcsParameters": {"TaskDefinitionArn": definition}})
    queue = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="kept")
    cw.put_metric_data(Namespace="Batch", MetricData=[{"MetricName": "Rows", "Value": 42.0}])
    request = urllib.request.Request(f"{endpoint}/_cronbridge/rules/every-30/run-now", method="POST")
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except OSError as err:
        print("run-now:", err)
    for _ in range(100):
        state = ecs.describe_tasks(cluster="batch", tasks=[task])["tasks"][0]["lastStatus"]
        if state == "STOPPED":
            break
        time.sleep(0.1)
    print("populated; task", task, state)


if __name__ == "__main__":
    populate(sys.argv[1])
