"""`cronbridge demo`: the seed's scheduled batch, created through the AWS API and run once while you watch."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.credentials import Credentials

from cronbridge import seed_iam
from cronbridge.cli_views.connect import Connection
from cronbridge.config import Settings
from cronbridge.identity.bootstrap import read_credentials
from cronbridge.schedule import parse
from cronbridge.server.process import BackgroundServer

REGION = "ap-northeast-1"
CLUSTER = "ecs-scheduled-batch"
FAMILY = "ecs-scheduled-batch-task"
LOG_GROUP = "/ecs/fargate-task-definition"
RULE = "hello"
SCHEDULE = "cron(*/30 * * * ? *)"
DEFAULT_IMAGE = "busybox"
Say = Callable[[str], None]
CREDENTIALS: dict[str, tuple[str, str]] = {}  # endpoint -> the administrator's (key id, secret)


def container_definition(image: str) -> dict[str, Any]:
    """The seed's container definition, with its placeholders filled (name `hello`, a runnable image)."""
    return {
        "name": "hello",
        "image": image,
        "cpu": 256,
        "memory": 512,
        "essential": True,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"},
        },
    }


def create_seed_system(endpoint: str, image: str = "busybox") -> dict[str, str]:
    """Cluster, log group, task definition, rule and target, as the seed's Terraform declares them."""
    ecs, events, logs, iam = (_client(endpoint, name) for name in ("ecs", "events", "logs", "iam"))
    cluster_arn = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    logs.create_log_group(logGroupName=LOG_GROUP)
    execution_role = seed_iam.create_execution_role(iam)
    taskdef_arn = ecs.register_task_definition(
        family=FAMILY, networkMode="awsvpc", cpu="256", memory="512", requiresCompatibilities=["FARGATE"],
        containerDefinitions=[container_definition(image)], executionRoleArn=execution_role,
        taskRoleArn=execution_role,
    )["taskDefinition"]["taskDefinitionArn"]
    events_role = seed_iam.create_events_role(iam, taskdef_arn)
    rule_arn = events.put_rule(Name=RULE, ScheduleExpression=SCHEDULE, State="ENABLED")["RuleArn"]
    events.put_targets(Rule=RULE, Targets=[{
        "Id": "hello",
        "Arn": cluster_arn,
        "RoleArn": events_role,
        "EcsParameters": {
            "TaskDefinitionArn": taskdef_arn, "TaskCount": 1, "LaunchType": "FARGATE", "PlatformVersion": "1.4.0",
            "EnableExecuteCommand": True,
            "NetworkConfiguration": {"awsvpcConfiguration": {
                "Subnets": ["subnet-local"], "SecurityGroups": ["sg-local"], "AssignPublicIp": "ENABLED"}},
        },
        "Input": json.dumps({"containerOverrides": [{"name": "hello", "command": ["echo", "Hello,World!"]}]}),
    }])
    return {"cluster": cluster_arn, "task_definition": taskdef_arn, "rule": rule_arn}


def _client(endpoint: str, service: str) -> Any:
    """A client signing with the administrator's key of the demo's own server (from its credentials file)."""
    key, secret = CREDENTIALS.get(endpoint, ("demo", "demo"))
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret,
    )


def run_now(endpoint: str, rule: str) -> dict[str, Any]:
    """Ask the scheduler to fire the rule's targets now (recorded as a manual invocation), signed as the
    administrator: our own endpoints are authorized like AWS calls (cronbridge:RunNow)."""
    key, secret = CREDENTIALS.get(endpoint, ("demo", "demo"))
    conn = Connection(endpoint, REGION, Credentials(key, secret))
    return dict(conn.post(f"/_cronbridge/rules/{rule}/run-now"))


def follow_task(endpoint: str, cluster: str, task_arn: str, say: Say, timeout: float = 60) -> dict[str, Any]:
    """Print each lifecycle status as it changes, until the task is STOPPED."""
    ecs = _client(endpoint, "ecs")
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
        if task["lastStatus"] != seen:
            seen = task["lastStatus"]
            say(f"  {datetime.now(UTC):%H:%M:%S.%f}"[:-3] + f"  observed lastStatus={seen}")
        if seen == "STOPPED":
            return dict(task)
        time.sleep(0.05)
    raise TimeoutError(f"task {task_arn} did not stop within {timeout} s")


_STEPS = (
    ("createdAt", "PROVISIONING"), ("pullStartedAt", "ACTIVATING (pull/start)"), ("startedAt", "RUNNING"),
    ("stoppingAt", "STOPPING"), ("executionStoppedAt", "container exited"), ("stoppedAt", "STOPPED"),
)


def lifecycle(task: dict[str, Any]) -> list[str]:
    """The task's lifecycle as DescribeTasks records it, one line per timestamp."""
    created = task["createdAt"]
    lines = []
    for key, label in _STEPS:
        if key in task:
            at = task[key]
            lines.append(f"  {at:%H:%M:%S.%f}"[:-3] + f"  +{(at - created).total_seconds() * 1000:7.1f} ms  {label}")
    return lines


def read_log(endpoint: str, task_arn: str) -> list[str]:
    logs = _client(endpoint, "logs")
    stream = f"ecs/hello/{task_arn.rsplit('/', 1)[-1]}"
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)["events"]
    return [f"{stream}  {e['message']}" for e in events]


class DemoError(Exception):
    """Why the demo cannot run here, in one line."""


def run(launcher: str = "process", data_dir: Path | None = None, say: Say = print, image: str | None = None) -> int:
    """Run the demo; a reason it cannot run is one line on stderr (exit 1), never a traceback."""
    try:
        return _run(launcher, data_dir, say, image or DEFAULT_IMAGE)
    except (DemoError, SystemExit) as err:
        print(f"cronbridge: error: {str(err).removeprefix('cronbridge: ')}", file=sys.stderr)
        return 1


def _run(launcher: str, data_dir: Path | None, say: Say, image: str) -> int:
    directory = data_dir or Path(tempfile.mkdtemp(prefix="cronbridge-demo-"))
    server = BackgroundServer(Settings(port=0, data_dir=directory, launcher=launcher)).start()
    found = read_credentials(server.system.settings.admin_credentials_path)
    if found:
        CREDENTIALS[server.endpoint] = found
    try:
        if server.system.launcher.name == "docker":
            check_image(image, server.system.settings.docker_host)
        return _demo(server, say, image)
    finally:
        server.stop()


def check_image(image: str, docker_host: str | None) -> None:
    """The docker launcher runs only images the engine already has: say so before anything runs."""
    import docker
    from docker.errors import DockerException, ImageNotFound

    try:
        client = docker.DockerClient(base_url=docker_host) if docker_host else docker.from_env()
        client.images.get(image)
    except ImageNotFound:
        raise DemoError(
            f"image {image!r} is not in the local Docker engine and cronbridge never pulls; build one from the static "
            "busybox with scripts/busybox-image (then --image cronbridge/busybox:latest), or use --launcher process"
        ) from None
    except DockerException as err:
        raise DemoError(f"the Docker engine did not answer ({err}); use --launcher process") from None


def _demo(server: BackgroundServer, say: Say, image: str) -> int:
    endpoint = server.endpoint
    system = server.system
    say(f"cronbridge server on {endpoint} (launcher: {system.launcher.name}, state: {system.db.location})")
    made = create_seed_system(endpoint, image)
    say(f"created cluster {made['cluster']}")
    say(f"        task definition {made['task_definition']}")
    say(f"        rule {made['rule']}")
    schedule = parse(SCHEDULE)
    say(f"\nrule {RULE}: {SCHEDULE} = {schedule.describe()}; next fire times (UTC):")
    for instant in schedule.next_n(time.time(), 5):
        say(f"  {datetime.fromtimestamp(instant, UTC):%Y-%m-%d %H:%M:%S}")
    say("\nrunning the target once now:")
    invocation = run_now(endpoint, RULE)
    task_arn = invocation["taskArns"][0]
    say(f"  task {task_arn}")
    task = follow_task(endpoint, made["cluster"], task_arn, say)
    say("  lifecycle, from the task's timestamps:")
    for line in lifecycle(task):
        say(line)
    container = task["containers"][0]
    say(f"  stopCode={task.get('stopCode')} reason={task.get('stoppedReason')!r} exitCode={container.get('exitCode')}")
    if container.get("exitCode") != 0:
        raise DemoError(f"the task failed: {task.get('stopCode')}: {task.get('stoppedReason')} "
                        f"({container.get('reason') or 'no container exit code'})")
    say(f"\nCloudWatch Logs {LOG_GROUP}:")
    lines = read_log(endpoint, task_arn)
    for line in lines:
        say(f"  {line}")
    return 0 if any(line.endswith("Hello,World!") for line in lines) else 1
