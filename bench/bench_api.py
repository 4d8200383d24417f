"""API benchmark: cronbridge against moto's server, same boto3 workload, same machine, same run."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    Result,
    ServerProcess,
    WorkerFactory,
    cronbridge_server,
    measure,
    moto_server,
    ratio,
    render_table,
)
from bench.prepared import Connection
from bench.prepared import prepare as prepare_request
from cronbridge import seed_iam

ACCOUNT = "000000000000"
LOG_GROUP = "/ecs/bench"
SEARCH_GROUP = "/bench/search"  # holds only the big stream, so FilterLogEvents counts are exact
FILTER_TERM = "ERROR"
THREADS = (1, 8)


@dataclass(frozen=True)
class Sizes:
    """How big each workload is; `quick` shrinks everything for a smoke run."""

    duration: float
    tasks_read: int
    tasks_big: int
    stream_events: int
    seed_batch: int
    put_events: int
    describe_batch: int = 100


FULL = Sizes(duration=3.0, tasks_read=1_000, tasks_big=10_000, stream_events=100_000,
             seed_batch=10_000, put_events=1_000)
QUICK = Sizes(duration=0.5, tasks_read=200, tasks_big=600, stream_events=10_000,
              seed_batch=5_000, put_events=200, describe_batch=50)


@dataclass
class Target:
    """One server under test and the fixtures prepared on it (network, stream bounds)."""

    label: str
    server: ServerProcess
    network: dict[str, Any] = field(default_factory=dict)
    stream_start_ms: int = 0
    execution_role: str = ""  # awslogs on Fargate needs one (both servers refuse the definition without)

    def client(self, service: str) -> Any:
        return self.server.client(service)


# ---------------------------------------------------------------- fixtures common to both servers

def container(command: list[str] | None = None) -> dict[str, Any]:
    """The blog's container: awslogs to LOG_GROUP; memory set (moto needs it to run a task)."""
    definition: dict[str, Any] = {
        "name": "app", "image": "busybox", "essential": True, "memory": 512,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": LOG_GROUP, "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "ecs"}},
    }
    if command:
        definition["command"] = command
    return definition


def prepare(target: Target) -> None:
    """Log group, task definition, and a network: moto needs a real (moto) VPC, subnet and group."""
    target.execution_role = seed_iam.create_execution_role(target.client("iam"))
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("CreateLogGroup", lambda: target.client("logs").create_log_group(logGroupName=LOG_GROUP)),
        ("CreateLogGroup", lambda: target.client("logs").create_log_group(
            logGroupName=SEARCH_GROUP)),
        ("RegisterTaskDefinition", lambda: target.client("ecs").register_task_definition(
            family="bench", networkMode="awsvpc", cpu="256", memory="512", executionRoleArn=target.execution_role,
            requiresCompatibilities=["FARGATE"], containerDefinitions=[container(["true"])])),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as error:  # noqa: BLE001 - later operations report their own failures
            print(f"  ! {target.label}: {name} failed: {type(error).__name__}: {error}", flush=True)
    subnet, group = ("subnet-0bench", "sg-0bench")
    if target.label == "moto":
        subnet, group = _moto_network(target.client("ec2"))
    target.network = {"awsvpcConfiguration": {
        "subnets": [subnet], "securityGroups": [group], "assignPublicIp": "ENABLED"}}


def _moto_network(ec2: Any) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="bench", Description="bench", VpcId=vpc)["GroupId"]
    return str(subnet), str(group)


REAL_COMMAND = ["/bin/sh", "-c", "echo hello; sleep 1"]  # what a RunTask measured here runs (awslogs on)


def run_task_kwargs(target: Target, cluster: str, count: int = 1, command: list[str] | None = None) -> dict[str, Any]:
    return {
        "cluster": cluster, "taskDefinition": "bench", "count": count, "launchType": "FARGATE",
        "networkConfiguration": target.network, "startedBy": "bench",
        "overrides": {"containerOverrides": [{"name": "app", "command": command or ["true"]}]},
    }


def seed_tasks(target: Target, cluster: str, total: int) -> list[str]:
    """RunTask with count=10 until `total` tasks exist in `cluster`; returns their ARNs."""
    ecs, arns = target.client("ecs"), list[str]()
    ecs.create_cluster(clusterName=cluster)
    while len(arns) < total:
        response = ecs.run_task(**run_task_kwargs(target, cluster, min(10, total - len(arns))))
        if response.get("failures"):
            raise RuntimeError(f"RunTask failures while seeding: {response['failures'][:2]}")
        arns.extend(t["taskArn"] for t in response["tasks"])
    return arns


def log_message(i: int) -> str:
    level = FILTER_TERM if i % 1000 == 0 else "INFO"
    return f"{level} request id={i:07d} path=/api/items/{i % 97} status=200 took={i % 13}ms"


def seed_stream(target: Target, stream: str, start: int, stop: int, batch: int) -> None:
    """Events start..stop-1, 10 ms apart from `stream_start_ms`, in PutLogEvents batches."""
    logs = target.client("logs")
    if start == 0:
        logs.create_log_stream(logGroupName=SEARCH_GROUP, logStreamName=stream)
    for first in range(start, stop, batch):
        events = [{"timestamp": target.stream_start_ms + 10 * i, "message": log_message(i)}
                  for i in range(first, min(stop, first + batch))]
        logs.put_log_events(logGroupName=SEARCH_GROUP, logStreamName=stream, logEvents=events)


# ---------------------------------------------------------------- the operations

Spec = tuple[str, str, dict[str, Any]]
"""One AWS call: (service, boto3 operation name, parameters)."""


@dataclass(frozen=True)
class Requests:
    """What thread t sends on its i-th call (one or more requests), and the check of their answers. `distinct` is how
    many different calls a thread prepares before it repeats them (a prepared request can be sent again)."""

    make: Callable[[int, int], list[Spec]]
    check: Callable[[list[Any]], None] = lambda answers: None
    distinct: int = 1


@dataclass(frozen=True)
class Operation:
    """A benchmarked operation: `setup` seeds a target and says what each call sends (or, for a call that is a
    conversation, such as FilterLogEvents following nextToken, returns the factory of worker calls itself)."""

    title: str
    items_per_call: int
    item: str
    setup: Callable[[Target, Sizes], Requests | WorkerFactory]


def factory_of(target: Target, requests: Requests, client: str) -> WorkerFactory:
    """Worker calls sending `requests` through boto3, or prepared (signed beforehand, sent with http.client)."""
    def factory(t: int) -> Callable[[int], Any]:
        clients: dict[str, Any] = {}

        def specs(i: int) -> list[tuple[Any, str, dict[str, Any]]]:
            made = requests.make(t, i % requests.distinct)
            return [(clients.get(s) or clients.setdefault(s, target.client(s)), op, kw) for s, op, kw in made]

        if client == "boto3":
            return lambda i: requests.check([getattr(c, op)(**kw) for c, op, kw in specs(i)])
        connection = Connection(target.server.endpoint)
        pool = [[prepare_request(c, op, **kw) for c, op, kw in specs(i)] for i in range(requests.distinct)]
        return lambda i: requests.check([connection.send(r) for r in pool[i % len(pool)]])

    return factory


def setup_run_task(target: Target, sizes: Sizes) -> Requests:
    target.client("ecs").create_cluster(clusterName="bench-run")
    return Requests(lambda t, i: [("ecs", "run_task", run_task_kwargs(target, "bench-run", command=REAL_COMMAND))],
                    lambda answers: _check_tasks(answers[0], 1))


def _check_tasks(response: dict[str, Any], expected: int) -> None:
    if len(response.get("tasks", [])) != expected:
        raise RuntimeError(f"expected {expected} tasks, got {len(response.get('tasks', []))}: "
                           f"failures={response.get('failures')}")


def setup_describe_tasks(target: Target, sizes: Sizes) -> Requests:
    return describe_requests(seed_tasks(target, "bench-read", sizes.tasks_read), "bench-read", sizes.describe_batch)


def describe_requests(arns: list[str], cluster: str, batch: int) -> Requests:
    """Each call describes `batch` tasks picked at random among `arns`."""
    def make(t: int, i: int) -> list[Spec]:
        picked = random.Random(t * 100_003 + i).sample(arns, batch)
        return [("ecs", "describe_tasks", {"cluster": cluster, "tasks": picked})]

    return Requests(make, lambda answers: _check_tasks(answers[0], batch), distinct=200)


def setup_put_log_events(target: Target, sizes: Sizes) -> Requests:
    logs = target.client("logs")
    for t in range(max(THREADS)):
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=f"put-{t}")
    body = [log_message(j) for j in range(sizes.put_events)]

    def make(t: int, i: int) -> list[Spec]:
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": m} for m in body]
        return [("logs", "put_log_events", {"logGroupName": LOG_GROUP, "logStreamName": f"put-{t}",
                                            "logEvents": events})]

    return Requests(make)


def setup_get_log_events(target: Target, sizes: Sizes) -> Requests:
    _ensure_big_stream(target, sizes)
    return get_events_requests(target, sizes.stream_events)


def _ensure_big_stream(target: Target, sizes: Sizes) -> None:
    if not target.stream_start_ms:
        target.stream_start_ms = int(time.time() * 1000) - 3_600_000
        seed_stream(target, "big", 0, sizes.stream_events, sizes.seed_batch)


def get_events_requests(target: Target, events: int, stream: str = "big") -> Requests:
    """GetLogEvents(limit 100, from head) starting at a random instant of a stream of `events`."""
    def make(t: int, i: int) -> list[Spec]:
        start = target.stream_start_ms + 10 * random.Random(t * 100_003 + i).randrange(max(1, events - 100))
        return [("logs", "get_log_events", {"logGroupName": SEARCH_GROUP, "logStreamName": stream, "limit": 100,
                                            "startFromHead": True, "startTime": start})]

    def check(answers: list[Any]) -> None:
        if len(answers[0]["events"]) != 100:
            raise RuntimeError(f"GetLogEvents returned {len(answers[0]['events'])} events, not 100")

    return Requests(make, check, distinct=500)


def setup_filter_log_events(target: Target, sizes: Sizes) -> WorkerFactory:
    _ensure_big_stream(target, sizes)
    expected = len(range(0, sizes.stream_events, 1000))

    def factory(t: int) -> Callable[[int], Any]:
        logs = target.client("logs")
        return lambda i: _filter_all(logs, expected)

    return factory


def _filter_all(logs: Any, expected: int) -> None:
    """One complete FilterLogEvents query: follow nextToken until the scan is done."""
    found, kwargs = 0, {"logGroupName": SEARCH_GROUP, "filterPattern": FILTER_TERM}
    for _ in range(1000):
        page = logs.filter_log_events(**kwargs)
        found += len(page["events"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    if found != expected:
        raise RuntimeError(f"FilterLogEvents found {found} events, expected {expected}")


def setup_put_rule(target: Target, sizes: Sizes) -> Requests:
    task_def = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/bench:1"
    ecs_parameters = {"TaskDefinitionArn": task_def, "LaunchType": "FARGATE", "TaskCount": 1,
                      "NetworkConfiguration": {"awsvpcConfiguration": {
                          "Subnets": target.network["awsvpcConfiguration"]["subnets"],
                          "AssignPublicIp": "ENABLED"}}}
    target_spec = {"Id": "batch", "Arn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/bench-run",
                   "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsEventsRole",
                   "EcsParameters": ecs_parameters}

    def make(t: int, i: int) -> list[Spec]:
        name = f"bench-{t}-{i}"
        return [("events", "put_rule", {"Name": name, "ScheduleExpression": "cron(*/30 * * * ? *)",
                                        "State": "DISABLED"}),  # disabled: the benchmark must not launch tasks
                ("events", "put_targets", {"Rule": name, "Targets": [target_spec]})]

    def check(answers: list[Any]) -> None:
        if answers[1].get("FailedEntryCount"):
            raise RuntimeError(f"PutTargets failed: {answers[1].get('FailedEntries')}")

    return Requests(make, check, distinct=600)  # then the same rules again (PutRule updates them)


def setup_register(target: Target, sizes: Sizes) -> Requests:
    definition = {"family": "bench-register", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
                  "executionRoleArn": target.execution_role,
                  "requiresCompatibilities": ["FARGATE"], "containerDefinitions": [container(["true"])]}

    def check(answers: list[Any]) -> None:
        if not answers[0].get("taskDefinition", {}).get("revision"):
            raise RuntimeError(f"RegisterTaskDefinition answered {answers[0]}")

    return Requests(lambda t, i: [("ecs", "register_task_definition", definition)], check)


OPERATIONS = (
    Operation("RunTask (count 1)", 1, "tasks", setup_run_task),
    Operation("DescribeTasks (100 of 1,000)", 1, "calls", setup_describe_tasks),
    Operation("PutLogEvents (1,000 events)", 1_000, "events", setup_put_log_events),
    Operation("GetLogEvents (limit 100, 100k-event stream)", 1, "calls", setup_get_log_events),
    Operation("FilterLogEvents (term, 100k events)", 1, "queries", setup_filter_log_events),
    Operation("PutRule + PutTargets", 1, "pairs", setup_put_rule),
    Operation("RegisterTaskDefinition", 1, "revisions", setup_register),
)


# ---------------------------------------------------------------- measuring and printing

def measure_operation(op: Operation, targets: list[Target], sizes: Sizes, client: str) -> list[Result]:
    """Set the operation up on every target, then measure each with 1 and 8 threads."""
    results: list[Result] = []
    for target in targets:
        try:
            made = op.setup(target, sizes)
        except Exception as error:  # noqa: BLE001 - report and go on with the other operations
            message = f"setup: {type(error).__name__}: {error}"
            results += [_failed(target, n, message) for n in THREADS]
            continue
        factory = factory_of(target, made, client) if isinstance(made, Requests) else made
        for threads in THREADS:
            result = measure(target.server, factory, threads, sizes.duration)
            result.server = target.label
            results.append(result)
    return results


def _failed(target: Target, threads: int, message: str) -> Result:
    return Result(target.label, threads, 0.0, [], errors=1, first_error=message[:300])


def print_operation(op: Operation, results: list[Result]) -> None:
    """One table: server, threads, req/s, items/s, p50, p99, server CPU per call, ratio to moto."""
    peers = {r.threads: r.rps for r in results if r.server == "moto"}
    rows = [_row(op, r, peers.get(r.threads, 0.0)) for r in results]
    headers = ["server", "threads", "req/s", f"{op.item}/s", "p50 ms", "p99 ms", "srv cpu ms/req",
               "vs moto"]
    print(f"\n## {op.title}\n" + render_table(headers, rows), flush=True)
    for r in results:
        if r.errors:
            print(f"  ! {r.server} x{r.threads}: {r.first_error}", flush=True)


def _row(op: Operation, r: Result, peer_rps: float) -> list[str]:
    if not r.calls:
        return [r.server, str(r.threads), "FAILED", "-", "-", "-", "-", "-"]
    return [r.server, str(r.threads), f"{r.rps:,.0f}", f"{r.rps * op.items_per_call:,.0f}",
            f"{r.p_ms(50):.2f}", f"{r.p_ms(99):.2f}", f"{r.cpu_ms_per_call:.2f}",
            "" if r.server == "moto" else ratio(r.rps, peer_rps)]


# ---------------------------------------------------------------- reads vs store size

def read_scaling(targets: list[Target], sizes: Sizes, client: str) -> None:
    """DescribeTasks on a small and a 10x store; GetLogEvents early vs anywhere in a stream."""
    rows: list[list[str]] = []
    for target in targets:
        rows += _describe_scaling(target, sizes, client) + _get_events_scaling(target, sizes, client)
    headers = ["server", "read", "small store p50 ms", "large store p50 ms", "large/small"]
    print("\n## Reads vs store size (1 thread)\n" + render_table(headers, rows), flush=True)


def _describe_scaling(target: Target, sizes: Sizes, client: str) -> list[list[str]]:
    label = f"DescribeTasks({sizes.describe_batch})"
    try:
        small = seed_tasks(target, "scale-small", sizes.tasks_read)
        factory = factory_of(target, describe_requests(small, "scale-small", sizes.describe_batch), client)
        before = _p50(target, factory, sizes)
        seed_tasks(target, "scale-other", sizes.tasks_big - sizes.tasks_read)
        after = _p50(target, factory, sizes)
    except Exception as error:  # noqa: BLE001
        return [[target.label, label, f"FAILED: {type(error).__name__}: {error}"[:120], "-", "-"]]
    return [[target.label, f"{label}: {sizes.tasks_read:,} -> {sizes.tasks_big:,} tasks",
             f"{before:.2f}", f"{after:.2f}", ratio(after, before)]]


def _get_events_scaling(target: Target, sizes: Sizes, client: str) -> list[list[str]]:
    label = "GetLogEvents(100)"
    try:
        _ensure_big_stream(target, sizes)
        first = sizes.seed_batch
        seed_stream(target, "small", 0, first, sizes.seed_batch)
        small = _p50(target, factory_of(target, get_events_requests(target, first, "small"), client), sizes)
        large = _p50(target, factory_of(target, get_events_requests(target, sizes.stream_events), client), sizes)
    except Exception as error:  # noqa: BLE001
        return [[target.label, label, f"FAILED: {type(error).__name__}: {error}"[:120], "-", "-"]]
    return [[target.label, f"{label}: stream of {first:,} vs {sizes.stream_events:,} events",
             f"{small:.2f}", f"{large:.2f}", ratio(large, small)]]


def _p50(target: Target, factory: WorkerFactory, sizes: Sizes) -> float:
    result = measure(target.server, factory, 1, sizes.duration)
    if not result.calls:
        raise RuntimeError(result.first_error)
    return result.p_ms(50)


# ---------------------------------------------------------------- servers

def start_targets(work: Path) -> list[Target]:
    """moto, cronbridge (process launcher) and, when the server offers one, cronbridge (noop)."""
    targets = [Target("moto", moto_server(work / "moto").start())]
    try:
        targets.append(Target("cronbridge", cronbridge_server(work / "cb").start()))
        noop = _start_noop(work / "cb-noop")
        targets += [noop] if noop else []
    except RuntimeError as error:
        print(f"!! cronbridge did not start; measuring moto alone:\n{error}", flush=True)
    for target in targets:
        prepare(target)
    return targets


def _start_noop(data_dir: Path) -> Target | None:
    """cronbridge with CRONBRIDGE_LAUNCHER=noop, if the server accepts and reports that launcher."""
    server = cronbridge_server(data_dir, launcher=None, env={"CRONBRIDGE_LAUNCHER": "noop"})
    try:
        server.start(timeout=30)
    except RuntimeError as error:
        print(f"(no noop launcher: {str(error).splitlines()[-1][:160]})", flush=True)
        return None
    if server.get("/_cronbridge/health").get("launcher") != "noop":
        print("(no noop launcher: the server chose another one)", flush=True)
        server.stop()
        return None
    return Target("cronbridge-noop", server)


def print_memory(targets: list[Target]) -> None:
    rows = []
    for target in targets:
        rss, peak = target.server.rss_mib()
        rows.append([target.label, str(target.server.pid), f"{rss:,.0f}", f"{peak:,.0f}"])
    headers = ["server", "pid", "RSS MiB (now)", "RSS MiB (peak)"]
    print("\n## Server memory (/proc VmRSS, VmHWM)\n" + render_table(headers, rows), flush=True)


def run(quick: bool = False, client: str = "prepared") -> None:
    """Start moto and cronbridge, measure every operation on both, print tables and ratios. `client` is "prepared"
    (requests signed beforehand, sent with http.client: bench/prepared.py) or "boto3" (a boto3 call each time)."""
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="cronbridge-bench-") as tmp:
        targets: list[Target] = []
        try:
            targets = start_targets(Path(tmp))
            _measure_all(targets, sizes, client)
        finally:
            for target in targets:
                target.server.stop()


def _measure_all(targets: list[Target], sizes: Sizes, client: str) -> None:
    workers = targets[-1].server.get("/_cronbridge/health").get("workers", "?") if len(targets) > 1 else "-"
    print(f"sizes: {sizes}; client: {client}; cronbridge workers: {workers}", flush=True)
    main = [t for t in targets if t.label != "cronbridge-noop"]
    for op in OPERATIONS:
        chosen = targets if op.setup is setup_run_task else main
        print_operation(op, measure_operation(op, chosen, sizes, client))
    read_scaling(main, sizes, client)
    print_memory(targets)
