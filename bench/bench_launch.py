"""RunTask -> container process started (p50/p99) against the same start done directly, and sustained task starts.

Peers, measured in the same run: a plain `subprocess` spawn of the same command (process launcher) and a plain
`docker run` of the same image through the Docker SDK (Docker launcher). "Started" is when the process itself
began: the time it prints (`date +%s.%N`) for processes, the engine's State.StartedAt for containers.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.harness import ServerProcess, cronbridge_server, percentile, ratio, render_table
from cronbridge import seed_iam
from cronbridge.launchers.base import ContainerSpec
from cronbridge.launchers.docker import host_config

NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}}
GROUP = "/bench/launch"
IMAGE = "cronbridge-test/busybox:latest"


def run(quick: bool = False) -> None:
    samples = 8 if quick else 40
    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp:
        rows = [*_process_rows(Path(tmp) / "process", samples)]
        docker_client = _docker()
        if docker_client is None:
            print("(no Docker engine answers, or the image cronbridge-test/busybox is missing: Docker rows skipped)")
        else:
            rows += _docker_rows(Path(tmp) / "docker", docker_client, max(4, samples // 4))
    print(render_table(["path", "n", "p50 ms", "p99 ms", "overhead p50", "ratio p50"], rows))


# process launcher ------------------------------------------------------------------------------------------------
def _process_rows(data: Path, samples: int) -> list[list[str]]:
    server = _server(data, "process")
    try:
        ecs, logs = server.client("ecs"), server.client("logs")
        ours = [_run_task_to_process_start(ecs, logs) for _ in range(samples + 2)][2:]
        peer = [_spawn_to_process_start() for _ in range(samples + 2)][2:]
        rate = _sustained(ecs, 100 if samples > 10 else 30)
    finally:
        server.stop()
    print(f"process launcher: sustained {rate:.1f} task starts/s (RunTask count=10, `true`, until all STOPPED)")
    return [_row("RunTask -> process started", ours, peer), _row("subprocess.Popen -> started", peer, peer)]


def _run_task_to_process_start(ecs: Any, logs: Any) -> float:
    began = time.time()
    arn = _run(ecs, ["date", "+%s.%N"])
    stream = f"bench/app/{arn.rsplit('/', 1)[-1]}"
    message = _first_message(logs, stream)
    return float(message) - began


def _spawn_to_process_start() -> float:
    began = time.time()
    out = subprocess.run(["date", "+%s.%N"], capture_output=True, check=True).stdout
    return float(out) - began


def _first_message(logs: Any, stream: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            events = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        if events:
            return str(events[0]["message"])
        time.sleep(0.002)
    raise RuntimeError(f"no output in {stream}")


def _sustained(ecs: Any, tasks: int) -> float:
    """Tasks per second from the first RunTask until every task has STOPPED."""
    began = time.perf_counter()
    arns = [arn for _ in range(tasks // 10) for arn in _run(ecs, ["true"], count=10, all_arns=True)]
    _wait_stopped(ecs, arns)
    return len(arns) / (time.perf_counter() - began)


def _wait_stopped(ecs: Any, arns: list[str]) -> None:
    pending = set(arns)
    while pending:
        for chunk in _chunks(sorted(pending), 100):
            for task in ecs.describe_tasks(cluster="bench", tasks=chunk)["tasks"]:
                if task["lastStatus"] == "STOPPED":
                    pending.discard(task["taskArn"])
        time.sleep(0.01)


# Docker launcher -------------------------------------------------------------------------------------------------
def _docker_rows(data: Path, client: Any, samples: int) -> list[list[str]]:
    server = _server(data, "docker")
    try:
        ecs = server.client("ecs")
        ours = [_run_task_to_container_start(ecs, client) for _ in range(samples + 1)][1:]
        peer = [_docker_run_to_container_start(client) for _ in range(samples + 1)][1:]
        rate = _sustained(ecs, 10 if samples > 4 else 10)
    finally:
        server.stop()
    print(f"docker launcher: sustained {rate:.1f} task starts/s (RunTask count=10, `true`, until all STOPPED)")
    return [_row("RunTask -> container started", ours, peer), _row("docker run -> container started", peer, peer)]


def _run_task_to_container_start(ecs: Any, client: Any) -> float:
    began = time.time()
    arn = _run(ecs, ["sleep", "2"])
    name = f"cb-{arn.rsplit('/', 1)[-1]}-app"
    started = _started_at(lambda: client.containers.get(name))
    ecs.stop_task(cluster="bench", task=arn)
    _wait_stopped(ecs, [arn])  # untimed, as the peer's removal: the next start must not overlap this teardown
    return started - began


def _docker_run_to_container_start(client: Any) -> float:
    began = time.time()
    container = client.containers.run(IMAGE, ["sleep", "2"], detach=True, **_SAME_OPTIONS)
    started = _started_at(lambda: client.containers.get(container.id))
    container.remove(force=True)
    return started - began


_SAME_OPTIONS = host_config(ContainerSpec(task_id="peer", name="app", image=IMAGE, cpu=256, memory=512))
"""The host configuration the Docker launcher gives the same container (limits, no network, log driver)."""


def _started_at(get: Callable[[], Any], timeout: float = 60) -> float:
    import docker

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = get().attrs["State"]
        except docker.errors.NotFound:
            state = {}
        stamp = state.get("StartedAt", "")
        if stamp and not stamp.startswith("0001-"):
            return _rfc3339(stamp)
        time.sleep(0.002)
    raise RuntimeError("the container never started")


def _rfc3339(text: str) -> float:
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float("0." + (fraction or "0"))


def _docker() -> Any:
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
        client.images.get(IMAGE)
        return client
    except Exception:  # noqa: BLE001 - no engine or no image: the Docker rows are skipped, saying so
        return None


# shared ----------------------------------------------------------------------------------------------------------
def _server(data: Path, launcher: str) -> ServerProcess:
    server = cronbridge_server(data, launcher=launcher).start()
    server.client("logs").create_log_group(logGroupName=GROUP)
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(
        family="bench", networkMode="awsvpc", cpu="256", memory="512", requiresCompatibilities=["FARGATE"],
        executionRoleArn=seed_iam.create_execution_role(server.client("iam")),  # awslogs needs its permissions
        containerDefinitions=[{"name": "app", "image": IMAGE, "essential": True, "stopTimeout": 1,
                               "logConfiguration": {"logDriver": "awslogs", "options": {
                                   "awslogs-group": GROUP, "awslogs-region": "us-east-1",
                                   "awslogs-stream-prefix": "bench"}}}])
    return server


def _run(ecs: Any, command: list[str], count: int = 1, all_arns: bool = False) -> Any:
    tasks = ecs.run_task(cluster="bench", taskDefinition="bench", count=count, networkConfiguration=NETWORK,
                         overrides={"containerOverrides": [{"name": "app", "command": command}]})["tasks"]
    arns = [t["taskArn"] for t in tasks]
    return arns if all_arns else arns[0]


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _row(label: str, ours: list[float], peer: list[float]) -> list[str]:
    p50, p99, peer50 = percentile(ours, 50) * 1000, percentile(ours, 99) * 1000, percentile(peer, 50) * 1000
    overhead = "-" if ours is peer else f"{p50 - peer50:+.2f} ms"
    return [label, str(len(ours)), f"{p50:.2f}", f"{p99:.2f}", overhead, "1.0x" if ours is peer else ratio(p50, peer50)]
