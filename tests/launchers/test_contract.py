"""One contract for every launcher: the same task definitions through boto3 against a real server, run as local
processes, as containers on a real Docker engine and as jobs on a Docker Swarm of the tests' own, must end as ECS
ends them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.docker_engine import BUSYBOX_IMAGE
from fixtures.ecs import NETWORK, execution_role, stream_messages, wait_stopped
from fixtures.server import ServerProcess

LAUNCHERS = [
    "process",
    pytest.param("docker", marks=pytest.mark.docker),
    pytest.param("swarm", marks=pytest.mark.docker),
]
GROUP = "/ecs/contract"
LIFECYCLE = [
    "PROVISIONING",
    "PENDING",
    "ACTIVATING",
    "RUNNING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
    "STOPPED",
]


class Harness:
    """A server with one launcher, a cluster and a log group, and helpers to run a task and read what it did."""

    def __init__(self, server: ServerProcess, image: str) -> None:
        self.server = server
        self.image = image
        self.ecs = server.client("ecs")
        self.logs = server.client("logs")
        self.family = 0
        self.execution_role = ""

    def reset(self) -> None:
        self.server.reset()
        self.logs.create_log_group(logGroupName=GROUP)
        self.ecs.create_cluster(clusterName="c")
        self.execution_role = execution_role(self.ecs)  # awslogs writes as this role (IAM is enforced)

    def container(self, name: str, command: list[str], **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "image": self.image,
            "essential": True,
            "command": command,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"},
            },
            **extra,
        }

    def run(self, *containers: dict[str, Any], **task: Any) -> str:
        self.family += 1
        family = f"contract-{self.family}"
        self.ecs.register_task_definition(
            family=family,
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            requiresCompatibilities=["FARGATE"],
            containerDefinitions=list(containers),
            **{"executionRoleArn": self.execution_role, **task},
        )
        return str(
            self.ecs.run_task(cluster="c", taskDefinition=family, networkConfiguration=NETWORK, launchType="FARGATE")[
                "tasks"
            ][0]["taskArn"]
        )

    def shell(self, script: str, name: str = "app", **extra: Any) -> str:
        return self.run(self.container(name, ["sh", "-c", script], **extra))

    def stopped(self, arn: str, timeout: float = 60) -> dict[str, Any]:
        return wait_stopped(self.ecs, "c", arn, timeout)

    def lines(self, arn: str, name: str = "app") -> list[str]:
        return stream_messages(self.logs, GROUP, f"ecs/{name}/{arn.rsplit('/', 1)[-1]}")

    def container_of(self, task: dict[str, Any], name: str = "app") -> dict[str, Any]:
        return dict(next(c for c in task["containers"] if c["name"] == name))

    def wait_running(self, arn: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]
            if task["lastStatus"] == "RUNNING":
                return dict(task)
            time.sleep(0.05)
        raise AssertionError(f"{arn} never ran")


@pytest.fixture(scope="module", params=LAUNCHERS)
def harness_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    launcher = request.param
    image = request.getfixturevalue("busybox_image") if launcher == "docker" else "busybox"
    env = {}
    if launcher == "swarm":  # DOCKER_HOST names the Swarm's manager, as for the docker CLI
        image, env = BUSYBOX_IMAGE, {"DOCKER_HOST": request.getfixturevalue("swarm").url}
    server = ServerProcess(tmp_path_factory.mktemp(f"contract-{launcher}"), launcher=launcher, extra_env=env).start()
    yield Harness(server, image)
    server.stop()


@pytest.fixture
def h(harness_server: Harness) -> Harness:
    harness_server.reset()
    return harness_server


# lifecycle --------------------------------------------------------------------------------------------------------
def test_a_task_passes_every_lifecycle_state_in_order_with_its_timestamps(h: Harness) -> None:
    arn = h.shell("echo hi")
    task = h.stopped(arn)
    events = h.server.get(f"/_cronbridge/events?source=aws.ecs&task={arn}")["events"]
    statuses = list(dict.fromkeys(e["detail"]["lastStatus"] for e in events))
    assert statuses == LIFECYCLE
    assert {e["detail-type"] for e in events} == {"ECS Task State Change"}
    assert {e["source"] for e in events} == {"aws.ecs"} and events[0]["resources"] == [arn]
    assert events[-1]["detail"]["stopCode"] == "EssentialContainerExited"
    times = [
        task[k]
        for k in (
            "createdAt",
            "pullStartedAt",
            "pullStoppedAt",
            "startedAt",
            "stoppingAt",
            "executionStoppedAt",
            "stoppedAt",
        )
    ]
    assert times == sorted(times)
    assert task["desiredStatus"] == "STOPPED" and task["containers"][0]["exitCode"] == 0


def test_an_essential_container_exit_stops_the_others(h: Harness) -> None:
    arn = h.run(
        h.container("app", ["sh", "-c", "sleep 0.5; exit 3"]),
        h.container("sidecar", ["sleep", "60"], essential=False, stopTimeout=1),
    )
    task = h.stopped(arn)
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert h.container_of(task)["exitCode"] == 3
    sidecar = h.container_of(task, "sidecar")
    assert sidecar["lastStatus"] == "STOPPED" and sidecar["exitCode"] in (137, 143)


def test_a_non_essential_container_may_exit_while_the_task_runs_on(h: Harness) -> None:
    arn = h.run(
        h.container("app", ["sh", "-c", "sleep 1; echo app-done"]),
        h.container("helper", ["sh", "-c", "exit 5"], essential=False),
    )
    task = h.stopped(arn)
    assert h.container_of(task, "helper")["exitCode"] == 5
    assert h.container_of(task)["exitCode"] == 0 and h.lines(arn) == ["app-done"]


def test_stop_task_sends_sigterm_then_sigkill_after_the_stop_timeout(h: Harness) -> None:
    arn = h.shell("trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.1; done", stopTimeout=2)
    h.wait_running(arn)
    time.sleep(0.5)
    h.ecs.stop_task(cluster="c", task=arn, reason="maintenance window")
    task = h.stopped(arn)
    assert task["stopCode"] == "UserInitiated" and task["stoppedReason"] == "maintenance window"
    app = h.container_of(task)
    assert app["exitCode"] == 137
    assert "OutOfMemoryError" not in (app.get("reason") or "")  # a SIGKILL after stopTimeout is not an OOM
    assert (task["executionStoppedAt"] - task["stoppingAt"]).total_seconds() >= 1.9
    lines = h.lines(arn)
    assert lines[0] == "ready" and "got TERM" in lines


def test_out_of_memory_is_read_from_the_kernel_record(h: Harness) -> None:
    arn = h.shell('x=a; while true; do x="$x$x"; done', memory=6)
    task = h.stopped(arn)
    app = h.container_of(task)
    limits = next(a["value"] for a in task["attributes"] if a["name"] == "cronbridge.limits.app")
    if "memory:hard" in limits or "memory:cgroup-hard" in limits:
        assert app["exitCode"] == 137
        assert app["reason"] == "OutOfMemoryError: Container killed due to memory usage"
    else:  # rlimits: the allocation fails inside the process, which is not an OOM kill
        assert limits == "memory:rlimit-as" and app["exitCode"] != 0 and "reason" not in app


def test_a_missing_log_group_fails_the_task_to_start(h: Harness) -> None:
    h.logs.delete_log_group(logGroupName=GROUP)
    task = h.stopped(h.shell("echo never"))
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ResourceInitializationError: failed to validate logger args: ")


# dependsOn and container settings -----------------------------------------------------------------------------------
def test_depends_on_success_and_complete_order_the_starts(h: Harness) -> None:
    arn = h.run(
        h.container(
            "app",
            ["sh", "-c", "echo app"],
            dependsOn=[
                {"containerName": "init", "condition": "SUCCESS"},
                {"containerName": "warm", "condition": "COMPLETE"},
            ],
        ),
        h.container("init", ["sh", "-c", "sleep 0.5; echo init"], essential=False),
        h.container("warm", ["sh", "-c", "exit 4"], essential=False),
    )
    task = h.stopped(arn)
    assert task["stopCode"] == "EssentialContainerExited" and h.container_of(task)["exitCode"] == 0
    stream = f"ecs/{{}}/{arn.rsplit('/', 1)[-1]}"
    init = h.logs.get_log_events(logGroupName=GROUP, logStreamName=stream.format("init"))["events"][0]
    app = h.logs.get_log_events(logGroupName=GROUP, logStreamName=stream.format("app"))["events"][0]
    assert app["timestamp"] >= init["timestamp"]


def test_a_failed_success_dependency_fails_the_task(h: Harness) -> None:
    arn = h.run(
        h.container("app", ["echo", "never"], dependsOn=[{"containerName": "init", "condition": "SUCCESS"}]),
        h.container("init", ["sh", "-c", "exit 2"], essential=False),
    )
    task = h.stopped(arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotStartContainerError: dependency 'init' exited with code 2")
    assert "runtimeId" not in h.container_of(task)


def test_a_dependency_that_never_gets_healthy_times_out(h: Harness) -> None:
    db = h.container(
        "db",
        ["sleep", "60"],
        startTimeout=2,
        stopTimeout=1,
        healthCheck={"command": ["CMD-SHELL", "exit 1"], "interval": 30, "retries": 3},
    )
    arn = h.run(h.container("app", ["echo", "never"], dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]), db)
    task = h.stopped(arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ContainerRuntimeTimeoutError: Could not transition to running")
    assert h.container_of(task, "db")["lastStatus"] == "STOPPED"


def test_a_healthy_dependency_lets_the_app_start(h: Harness) -> None:
    db = h.container(
        "db",
        ["sleep", "60"],
        essential=False,
        stopTimeout=1,
        healthCheck={"command": ["CMD-SHELL", "true"], "interval": 5, "retries": 1},
    )
    arn = h.run(
        h.container("app", ["echo", "db is up"], dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]), db
    )
    task = h.stopped(arn, timeout=40)
    assert task["stopCode"] == "EssentialContainerExited"
    assert h.container_of(task, "db")["healthStatus"] == "HEALTHY"
    assert h.lines(arn) == ["db is up"]


def test_environment_files_environment_and_working_directory(h: Harness, tmp_path: Path) -> None:
    env_file = tmp_path / "batch.env"
    env_file.write_text("# settings\nFROM_FILE=file\nBOTH=file\n")
    arn = h.shell(
        'echo "$FROM_FILE $BOTH"; pwd',
        workingDirectory="/",
        environmentFiles=[{"value": str(env_file), "type": "s3"}],
        environment=[{"name": "BOTH", "value": "definition"}],
    )
    task = h.stopped(arn)
    assert h.container_of(task)["exitCode"] == 0
    assert h.lines(arn) == ["file definition", "/"]


def test_a_missing_environment_file_fails_the_task_to_start(h: Harness, tmp_path: Path) -> None:
    arn = h.shell("true", environmentFiles=[{"value": str(tmp_path / "absent.env"), "type": "s3"}])
    task = h.stopped(arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ResourceInitializationError: failed to download env files")


def test_user_and_ulimits_apply(h: Harness) -> None:
    arn = h.shell("id -u; ulimit -n", user="1234", ulimits=[{"name": "nofile", "softLimit": 100, "hardLimit": 200}])
    task = h.stopped(arn)
    assert h.container_of(task).get("exitCode") == 0, (task["stoppedReason"], task["containers"])
    assert h.lines(arn) == ["1234", "100"]


# logs under pressure ------------------------------------------------------------------------------------------------
def test_a_hundred_thousand_lines_printed_at_once_are_all_kept_in_order(h: Harness) -> None:
    arn = h.shell("seq 1 100000")
    task = h.stopped(arn, timeout=120)
    assert h.container_of(task)["exitCode"] == 0
    assert h.lines(arn) == [str(i) for i in range(1, 100001)]


def test_a_300_kb_line_is_split_into_events_without_cutting_a_character(h: Harness) -> None:
    arn = h.shell("printf x; yes é | head -n 150000 | tr -d '\\n'; echo; echo after")
    h.stopped(arn)
    lines = h.lines(arn)
    # 262,118 bytes would cut the 2-byte é that starts at byte 262,117: the first event stops before it
    assert [len(m.encode()) for m in lines] == [262_117, 300_001 - 262_117, 5]
    assert "".join(lines[:2]) == "x" + "é" * 150_000 and lines[2] == "after"


def test_stdout_and_stderr_each_keep_their_order(h: Harness) -> None:
    arn = h.shell("for i in $(seq 1 200); do echo out$i; echo err$i >&2; done")
    h.stopped(arn)
    lines = h.lines(arn)
    assert [m for m in lines if m.startswith("out")] == [f"out{i}" for i in range(1, 201)]
    assert [m for m in lines if m.startswith("err")] == [f"err{i}" for i in range(1, 201)]


def test_stop_task_stops_dependents_before_their_dependencies(h: Harness) -> None:
    script = "trap 'echo {0} stopping; exit 0' TERM; echo {0} up; while true; do sleep 0.1; done"
    arn = h.run(h.container("app", ["sh", "-c", script.format("app")],
                            dependsOn=[{"containerName": "db", "condition": "START"}]),
                h.container("db", ["sh", "-c", script.format("db")]))
    h.wait_running(arn)
    time.sleep(0.5)
    h.ecs.stop_task(cluster="c", task=arn)
    h.stopped(arn)
    stream = f"ecs/{{}}/{arn.rsplit('/', 1)[-1]}"
    stops = {}
    for name in ("app", "db"):
        events = h.logs.get_log_events(logGroupName=GROUP, logStreamName=stream.format(name))["events"]
        stops[name] = next(e["timestamp"] for e in events if e["message"] == f"{name} stopping")
    assert stops["app"] <= stops["db"]
