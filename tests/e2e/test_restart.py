"""A restarted server keeps every resource, task and log event."""

from __future__ import annotations

import time
from typing import Any

from fixtures.ecs import NETWORK, register, wait_stopped


def test_a_restart_keeps_resources_tasks_and_log_events(server_factory: Any) -> None:
    server = server_factory()
    ecs, events, logs = server.client("ecs"), server.client("events"), server.client("logs")
    logs.create_log_group(logGroupName="/ecs/test")
    ecs.create_cluster(clusterName="work")
    register(ecs)
    events.put_rule(Name="nightly", ScheduleExpression="cron(0 3 * * ? *)")
    overrides = {"containerOverrides": [{"name": "app", "command": ["echo", "kept"]}]}
    arn = ecs.run_task(cluster="work", taskDefinition="batch", overrides=overrides,
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    before = wait_stopped(ecs, "work", arn)
    logs.put_log_events(logGroupName="/ecs/test", logStreamName=f"ecs/app/{arn.rsplit('/', 1)[-1]}",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "written by hand"}])

    server.restart()
    ecs, events, logs = server.client("ecs"), server.client("events"), server.client("logs")

    assert ecs.describe_clusters(clusters=["work"])["clusters"][0]["clusterName"] == "work"
    assert ecs.describe_task_definition(taskDefinition="batch")["taskDefinition"]["revision"] == 1
    assert events.describe_rule(Name="nightly")["ScheduleExpression"] == "cron(0 3 * * ? *)"
    after = ecs.describe_tasks(cluster="work", tasks=[arn])["tasks"][0]
    assert after["lastStatus"] == "STOPPED" and after["stoppedAt"] == before["stoppedAt"]
    messages = [e["message"] for e in logs.get_log_events(
        logGroupName="/ecs/test", logStreamName=f"ecs/app/{arn.rsplit('/', 1)[-1]}", startFromHead=True)["events"]]
    assert messages == ["kept", "written by hand"]


def test_a_process_task_running_when_the_server_dies_runs_on_and_can_be_stopped_after_restart(
    server_factory: Any
) -> None:
    """Its monitor outlives the server: the next server adopts the task, and StopTask still reaches it."""
    server = server_factory()
    ecs = server.client("ecs")
    server.client("logs").create_log_group(logGroupName="/ecs/test")
    ecs.create_cluster(clusterName="work")
    register(ecs)
    overrides = {"containerOverrides": [{"name": "app", "command": ["sleep", "30"]}]}
    arn = ecs.run_task(cluster="work", taskDefinition="batch", overrides=overrides,
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    deadline = time.monotonic() + 30
    while ecs.describe_tasks(cluster="work", tasks=[arn])["tasks"][0]["lastStatus"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.kill()
    server.start()
    ecs = server.client("ecs")
    assert ecs.describe_tasks(cluster="work", tasks=[arn])["tasks"][0]["lastStatus"] == "RUNNING"
    ecs.stop_task(cluster="work", task=arn, reason="enough")
    task = wait_stopped(ecs, "work", arn, timeout=60)
    assert (task["stopCode"], task["stoppedReason"]) == ("UserInitiated", "enough")
    assert task["containers"][0]["exitCode"] in (143, 137)  # SIGTERM (or SIGKILL after the stop timeout)
