"""Swarm task start: RunTask -> RUNNING (p50/p99) against `docker service create` of the same job by hand.

Runs on a one-node Swarm of its own (a second dockerd in a network namespace, as the tests' fixture builds it:
root is needed). Ours: from just before RunTask to the task's `startedAt` (recorded when cronbridge marks it
RUNNING, after Swarm says its container runs). Peers, measured in the same run, alternating with ours: the same job
(image, command, limits, no restart, host network, `local` log driver) created with `docker service create -d` (the
CLI, by hand) and with the SDK's create_service (the API call the launcher makes); each from just before the call to
the moment the manager's API first shows its task `running` (looked at every 5 ms, as `docker service ps` would
show it; the node's own timestamp of that state is earlier, by the manager's batching of status reports, and is
printed too). Nothing is timed while a task is torn down.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.harness import ServerProcess, cronbridge_server, percentile, render_table
from cronbridge import seed_iam
from cronbridge.launchers.base import ContainerSpec
from cronbridge.launchers.swarm import task_template

IMAGE = "cronbridge-test/busybox:latest"
GROUP = "/bench/swarm"
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}}
COMMAND = ["sleep", "30"]


def run(quick: bool = False) -> None:
    samples = 5 if quick else 30
    swarm = _own_swarm()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-swarm-") as tmp:
            ours, cli, sdk = _measure(swarm, Path(tmp), samples)
    finally:
        swarm.stop()
    rows = [
        _row("RunTask -> RUNNING (cronbridge)", ours, cli, sdk),
        _row("docker service create -d (CLI) -> running", cli, cli, sdk),
        _row("create_service (SDK) -> running", sdk, cli, sdk),
    ]
    headers = ["path", "n", "p50 ms", "p99 ms", "p50 vs CLI", "p50 vs SDK", "paired vs CLI", "paired vs SDK"]
    print(render_table(headers, rows))
    print("paired: the median of (this sample - the peer's sample of the same round), in ms")
    stamped = [_STAMPED[k] for k in ("cli", "sdk")]
    print("the peers to the node's own `running` timestamp: p50 "
          + ", ".join(f"{k} {percentile(v, 50) * 1000:.1f} ms" for k, v in zip(("CLI", "SDK"), stamped, strict=True)))


def _own_swarm() -> Any:
    """The tests' Swarm builder (tests/fixtures/swarm.py): one manager dockerd, busybox loaded."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from fixtures.swarm import Swarm

    return Swarm(nodes=1)


def _measure(swarm: Any, data: Path, samples: int) -> tuple[list[float], list[float], list[float]]:
    server = _server(data, swarm.url)
    ours: list[float] = []
    cli: list[float] = []
    sdk: list[float] = []
    try:
        ecs = server.client("ecs")
        for i in range(samples + 1):  # the first of each is a warm-up
            took = (_run_task(ecs), _service_create_cli(swarm), _service_create_sdk(swarm))
            if i:
                for found, sample in zip((ours, cli, sdk), took, strict=True):
                    found.append(sample)
    finally:
        server.stop()
    return ours, cli, sdk


def _run_task(ecs: Any) -> float:
    began = time.time()
    arn = ecs.run_task(cluster="bench", taskDefinition="bench", networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    task = _await_status(ecs, arn, "RUNNING")
    ecs.stop_task(cluster="bench", task=arn)
    _await_status(ecs, arn, "STOPPED")
    return float(task["startedAt"].timestamp()) - began


def _await_status(ecs: Any, arn: str, status: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = ecs.describe_tasks(cluster="bench", tasks=[arn])["tasks"][0]
        if task["lastStatus"] == status:
            return dict(task)
        if task["lastStatus"] == "STOPPED":
            raise RuntimeError(f"the task stopped: {task.get('stoppedReason')}")
        time.sleep(0.02)
    raise RuntimeError(f"{arn} was not {status} within {timeout} s")


_SPEC = ContainerSpec(task_id="peer", name="app", image=IMAGE, command=tuple(COMMAND), cpu=256, memory=512,
                      stop_timeout=1)  # fmt: skip
_TEMPLATE = task_template(_SPEC, [])
"""The TaskTemplate the Swarm launcher gives the same container: the peers create the very same job."""


def _service_create_cli(swarm: Any) -> float:
    name = f"peer-cli-{time.monotonic_ns()}"
    argv = ["docker", "-H", swarm.url, "service", "create", "-d", "--quiet", "--no-resolve-image", "--name", name,
            "--mode", "replicated-job", "--restart-condition", "none", "--limit-cpu", "0.25", "--limit-memory", "512m",
            "--stop-grace-period", "1s", "--network", "host", "--log-driver", "local", IMAGE, *COMMAND]  # fmt: skip
    began = time.time()
    service_id = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
    seen, stamped = _running_at(swarm, service_id)
    _STAMPED["cli"].append(stamped - began)
    return seen - began


def _service_create_sdk(swarm: Any) -> float:
    import docker

    api = swarm.manager.client.api
    mode = docker.types.ServiceMode("replicated-job", concurrency=1, replicas=1)
    began = time.time()
    created = api.create_service(_TEMPLATE, name=f"peer-sdk-{time.monotonic_ns()}", mode=mode)
    seen, stamped = _running_at(swarm, created["ID"])
    _STAMPED["sdk"].append(stamped - began)
    return seen - began


_STAMPED: dict[str, list[float]] = {"cli": [], "sdk": []}


def _running_at(swarm: Any, service_id: str, timeout: float = 120) -> tuple[float, float]:
    """When the manager's API first showed the job's task running, and the node's timestamp of that state; then
    the job and its container are removed (untimed)."""
    api = swarm.manager.client.api
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = api.tasks(filters={"service": service_id})
        status = tasks[0]["Status"] if tasks else {}
        if status.get("State") == "running":
            seen = time.time()
            container = status["ContainerStatus"]["ContainerID"]
            api.remove_service(service_id)
            api.remove_container(container, force=True)  # Swarm leaves a job's container (moby/moby#44312)
            return seen, _rfc3339(status["Timestamp"])
        time.sleep(0.005)
    raise RuntimeError(f"service {service_id} never ran")


def _rfc3339(text: str) -> float:
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float("0." + (fraction or "0"))


def _server(data: Path, manager: str) -> ServerProcess:
    server = cronbridge_server(data, launcher="swarm", env={"DOCKER_HOST": manager}).start()
    server.client("logs").create_log_group(logGroupName=GROUP)
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(
        family="bench", networkMode="awsvpc", cpu="256", memory="512", requiresCompatibilities=["FARGATE"],
        executionRoleArn=seed_iam.create_execution_role(server.client("iam")),  # awslogs needs its permissions
        containerDefinitions=[{"name": "app", "image": IMAGE, "essential": True, "stopTimeout": 1, "cpu": 256,
                               "memory": 512, "command": COMMAND,
                               "logConfiguration": {"logDriver": "awslogs", "options": {
                                   "awslogs-group": GROUP, "awslogs-region": "us-east-1",
                                   "awslogs-stream-prefix": "bench"}}}])  # fmt: skip
    return server


def _row(label: str, ours: list[float], cli: list[float], sdk: list[float]) -> list[str]:
    p50, p99 = percentile(ours, 50) * 1000, percentile(ours, 99) * 1000
    versus = [f"{p50 / (percentile(peer, 50) * 1000):.2f}x" for peer in (cli, sdk)]
    paired = [f"{percentile([a - b for a, b in zip(ours, peer, strict=True)], 50) * 1000:+.1f}" for peer in (cli, sdk)]
    return [label, str(len(ours)), f"{p50:.1f}", f"{p99:.1f}", *versus, *paired]
