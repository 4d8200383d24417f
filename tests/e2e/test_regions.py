"""Regions as AWS has them, through boto3 against a server started with defaults: a request acts in the Region it is
signed for; the same name in two Regions is two resources; listings and deletions stay in their Region; a rule runs
its targets in its own Region and a container's lines go to the log group of its awslogs-region."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from fixtures.ecs import wait_stopped

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
EAST, WEST, TOKYO = "us-east-1", "eu-west-1", "ap-northeast-1"
ACCOUNT = "000000000000"


def trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def test_the_same_names_in_two_regions_are_two_resources_listed_and_deleted_apart(cronbridge_server: Any) -> None:
    made: dict[str, dict[str, str]] = {}
    for region in (EAST, WEST):
        ecs, events, logs, sqs, scheduler = (
            cronbridge_server.client(s, region=region) for s in ("ecs", "events", "logs", "sqs", "scheduler")
        )
        logs.create_log_group(logGroupName="/same")
        made[region] = {
            "cluster": ecs.create_cluster(clusterName="same")["cluster"]["clusterArn"],
            "taskdef": ecs.register_task_definition(
                family="same", containerDefinitions=[{"name": "app", "image": "busybox", "memory": 64}]
            )["taskDefinition"]["taskDefinitionArn"],
            "rule": events.put_rule(Name="same", ScheduleExpression="rate(1 hour)")["RuleArn"],
            "group": logs.describe_log_groups()["logGroups"][0]["logGroupArn"],
            "queue": sqs.get_queue_attributes(
                QueueUrl=sqs.create_queue(QueueName="same")["QueueUrl"], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"],
            "group_of_schedules": scheduler.create_schedule_group(Name="same")["ScheduleGroupArn"],
        }
    for region in (EAST, WEST):
        assert made[region] == {
            "cluster": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/same",
            "taskdef": f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/same:1",  # revisions count per Region
            "rule": f"arn:aws:events:{region}:{ACCOUNT}:rule/same",
            "group": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/same",
            "queue": f"arn:aws:sqs:{region}:{ACCOUNT}:same",
            "group_of_schedules": f"arn:aws:scheduler:{region}:{ACCOUNT}:schedule-group/same",
        }
    east = {s: cronbridge_server.client(s, region=EAST) for s in ("ecs", "events", "logs", "sqs", "scheduler")}
    east["events"].delete_rule(Name="same")
    east["ecs"].delete_cluster(cluster="same")
    east["logs"].delete_log_group(logGroupName="/same")
    east["sqs"].delete_queue(QueueUrl=east["sqs"].get_queue_url(QueueName="same")["QueueUrl"])
    east["scheduler"].delete_schedule_group(Name="same")
    assert east["events"].list_rules()["Rules"] == []
    listed = east["ecs"].list_clusters()["clusterArns"]  # a deleted cluster stays discoverable, INACTIVE
    assert [c["status"] for c in east["ecs"].describe_clusters(clusters=listed)["clusters"]] == ["INACTIVE"]
    assert east["logs"].describe_log_groups()["logGroups"] == []
    assert east["sqs"].list_queues().get("QueueUrls", []) == []
    west = {s: cronbridge_server.client(s, region=WEST) for s in ("ecs", "events", "logs", "sqs", "scheduler")}
    assert [r["Arn"] for r in west["events"].list_rules()["Rules"]] == [made[WEST]["rule"]]
    assert west["ecs"].list_clusters()["clusterArns"] == [made[WEST]["cluster"]]
    assert [g["logGroupName"] for g in west["logs"].describe_log_groups()["logGroups"]] == ["/same"]
    assert [u.rsplit("/", 1)[-1] for u in west["sqs"].list_queues()["QueueUrls"]] == ["same"]
    assert "same" in [g["Name"] for g in west["scheduler"].list_schedule_groups()["ScheduleGroups"]]
    assert west["ecs"].list_task_definitions()["taskDefinitionArns"] == [made[WEST]["taskdef"]]


def test_a_region_cannot_reach_another_regions_resource_by_its_arn(cronbridge_server: Any) -> None:
    west_arn = cronbridge_server.client("ecs", region=WEST).create_cluster(clusterName="only-west")["cluster"][
        "clusterArn"
    ]
    found = cronbridge_server.client("ecs", region=EAST).describe_clusters(clusters=[west_arn])
    assert found["clusters"] == [] and found["failures"] == [{"arn": west_arn, "reason": "MISSING"}]


def _paid_to_queue(server: Any, region: str) -> str:
    """A bus `orders` in `region` whose rule `paid` sends shop events to a queue `paid`; the queue's URL."""
    events, sqs = server.client("events", region=region), server.client("sqs", region=region)
    url = sqs.create_queue(QueueName="paid")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
         "Resource": arn}]})})
    events.create_event_bus(Name="orders")
    events.put_rule(Name="paid", EventBusName="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="paid", EventBusName="orders", Targets=[{"Id": "q", "Arn": arn}])
    return str(url)


def test_an_event_its_delivery_and_a_long_poll_stay_in_the_region_of_the_bus(cronbridge_server: Any) -> None:
    urls = {region: _paid_to_queue(cronbridge_server, region) for region in (EAST, WEST)}
    east_sqs, west_sqs = (cronbridge_server.client("sqs", region=r) for r in (EAST, WEST))
    waited: list[dict[str, Any]] = []
    poll = threading.Thread(target=lambda: waited.append(
        east_sqs.receive_message(QueueUrl=urls[EAST], WaitTimeSeconds=3)))
    poll.start()  # a long poll on us-east-1's queue `paid`, while eu-west-1's queue of that name gets a message
    put = cronbridge_server.client("events", region=WEST).put_events(
        Entries=[{"Source": "shop", "DetailType": "paid", "Detail": "{}", "EventBusName": "orders"}])
    assert put["FailedEntryCount"] == 0
    deadline, got = time.monotonic() + 30, []
    while not got and time.monotonic() < deadline:
        got = west_sqs.receive_message(QueueUrl=urls[WEST], WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["region"] for m in got] == [WEST]
    poll.join(60)
    assert not poll.is_alive() and waited[0].get("Messages", []) == []  # woken by nothing of another Region
    history = "/_cronbridge/invocations?rule=paid&bus=orders"
    deadline, rows = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        rows = cronbridge_server.get(history, region=WEST)["invocations"]
        if rows and rows[0]["outcome"] != "PENDING":
            break
        time.sleep(0.05)
    west_rule = f"arn:aws:events:{WEST}:{ACCOUNT}:rule/orders/paid"
    assert [(r["trigger"], r["ruleArn"], r["outcome"]) for r in rows] == [("event", west_rule, "SUCCEEDED")]
    assert cronbridge_server.get(history, region=EAST)["invocations"] == []  # the same rule name, the other Region
    assert cronbridge_server.get("/_cronbridge/invocations", region=EAST)["invocations"] == []
    cronbridge_server.client("events", region=EAST).delete_rule(Name="paid", EventBusName="orders", Force=True)
    cronbridge_server.client("events", region=EAST).delete_event_bus(Name="orders")
    assert [b["Name"] for b in cronbridge_server.client("events", region=WEST).list_event_buses()["EventBuses"]] == [
        "default", "orders"]


def _batch(server: Any, region: str, log_region: str, rule: str) -> tuple[str, str]:
    """A cluster, log group, roles, task definition and a `*/30` rule in `region`; the container's awslogs-region is
    `log_region`. Returns (the log group's ARN as DescribeLogGroups gives it, the cluster)."""
    ecs, events, iam = (server.client(s, region=region) for s in ("ecs", "events", "iam"))
    logs = server.client("logs", region=log_region)
    logs.create_log_group(logGroupName="/ecs/fargate-task-definition")
    group_arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    execution = iam.create_role(RoleName=f"exec-{rule}", AssumeRolePolicyDocument=trust("ecs-tasks.amazonaws.com"))
    iam.put_role_policy(  # as the reshaped seed writes it: "${aws_cloudwatch_log_group.x.arn}:*"
        RoleName=f"exec-{rule}", PolicyName="logs", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{group_arn}:*"}
        ]}),
    )
    cluster = ecs.create_cluster(clusterName="batch")["cluster"]["clusterArn"]
    taskdef = ecs.register_task_definition(
        family="ecs-scheduled-batch-task", networkMode="awsvpc", cpu="256", memory="512",
        requiresCompatibilities=["FARGATE"], executionRoleArn=execution["Role"]["Arn"],
        containerDefinitions=[{
            "name": "hello", "image": "busybox", "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/fargate-task-definition", "awslogs-region": log_region,
                "awslogs-stream-prefix": "ecs"}},
        }],
    )["taskDefinition"]["taskDefinitionArn"]
    runner = iam.create_role(RoleName=f"events-{rule}", AssumeRolePolicyDocument=trust("events.amazonaws.com"))
    iam.put_role_policy(RoleName=f"events-{rule}", PolicyName="run", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": taskdef},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": execution["Role"]["Arn"]},
        ]}))
    events.put_rule(Name=rule, ScheduleExpression="cron(*/30 * * * ? *)")
    events.put_targets(Rule=rule, Targets=[{
        "Id": "hello", "Arn": cluster, "RoleArn": runner["Role"]["Arn"],
        "Input": json.dumps({"containerOverrides": [{"name": "hello", "command": ["echo", f"Hello from {rule}"]}]}),
        "EcsParameters": {"TaskDefinitionArn": taskdef, "LaunchType": "FARGATE",
                          "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"]}}},
    }])
    return group_arn, cluster


def _fired(server: Any, rule: str, region: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [i for i in server.get(f"/_cronbridge/invocations?rule={rule}", region=region)["invocations"]
                if i["outcome"] != "PENDING"]
        if done:
            return dict(done[0])
        time.sleep(0.05)
    raise AssertionError(f"rule {rule} in {region} did not fire")


def _lines(server: Any, region: str, timeout: float = 20) -> list[str]:
    logs = server.client("logs", region=region)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e["message"] for e in logs.filter_log_events(logGroupName="/ecs/fargate-task-definition")["events"]]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_the_seed_in_ap_northeast_1_runs_against_a_server_started_with_defaults(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)  # --region is us-east-1: only the requests name Tokyo
    server.set_clock(T0 + 5)
    group_arn, cluster = _batch(server, TOKYO, TOKYO, "hello")
    assert group_arn == f"arn:aws:logs:{TOKYO}:{ACCOUNT}:log-group:/ecs/fargate-task-definition"
    server.advance_clock(30 * 60 - 5)
    fired = _fired(server, "hello", TOKYO)
    assert fired["outcome"] == "SUCCEEDED", fired
    assert fired["ruleArn"] == f"arn:aws:events:{TOKYO}:{ACCOUNT}:rule/hello"
    [task_arn] = fired["taskArns"]
    assert task_arn.startswith(f"arn:aws:ecs:{TOKYO}:{ACCOUNT}:task/batch/")  # the rule's targets run in its Region
    task = wait_stopped(server.client("ecs", region=TOKYO), cluster, task_arn)
    assert task["containers"][0]["exitCode"] == 0, task
    assert _lines(server, TOKYO) == ["Hello from hello"]
    assert server.client("logs").describe_log_groups()["logGroups"] == []  # nothing in the server's own Region


def test_awslogs_region_sends_a_containers_lines_to_that_regions_log_group(server_factory: Any) -> None:
    server = server_factory(manual_clock=True)
    server.set_clock(T0 + 5)
    _batch(server, EAST, WEST, "cross")
    server.advance_clock(30 * 60 - 5)
    assert _fired(server, "cross", EAST)["outcome"] == "SUCCEEDED"
    assert _lines(server, WEST) == ["Hello from cross"]
    assert server.client("logs", region=EAST).describe_log_groups()["logGroups"] == []


def test_arns_carry_the_partition_of_the_region(cronbridge_server: Any) -> None:
    china = cronbridge_server.client("ecs", region="cn-north-1").create_cluster(clusterName="c")["cluster"]
    assert china["clusterArn"] == f"arn:aws-cn:ecs:cn-north-1:{ACCOUNT}:cluster/c"
    events = cronbridge_server.client("events", region="us-gov-west-1")
    gov = events.put_rule(Name="r", ScheduleExpression="rate(1 hour)")
    assert gov["RuleArn"] == f"arn:aws-us-gov:events:us-gov-west-1:{ACCOUNT}:rule/r"
    ecs = cronbridge_server.client("ecs", region="cn-north-1")
    assert ecs.describe_clusters(clusters=[china["clusterArn"]])["clusters"][0]["clusterName"] == "c"
