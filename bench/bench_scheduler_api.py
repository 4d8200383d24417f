"""EventBridge Scheduler API benchmark: cronbridge against moto's server, same boto3 workload, same run."""

from __future__ import annotations

import itertools
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    Result,
    ServerProcess,
    WorkerFactory,
    client,
    cronbridge_server,
    measure,
    moto_server,
    ratio,
    render_table,
)

THREADS = (1, 8)
NEVER = "cron(0 3 1 1 ? 2099)"  # valid, and never due while the bench runs
TARGET = {
    "Arn": "arn:aws:ecs:us-east-1:000000000000:cluster/bench",
    "RoleArn": "arn:aws:iam::000000000000:role/scheduler",
    "EcsParameters": {"TaskDefinitionArn": "arn:aws:ecs:us-east-1:000000000000:task-definition/bench:1"},
}


@dataclass(frozen=True)
class Sizes:
    duration: float
    seeded: int  # schedules in the store for the reads


FULL = Sizes(duration=3.0, seeded=5_000)
QUICK = Sizes(duration=0.5, seeded=500)


def create_kwargs(name: str) -> dict[str, Any]:
    return {"Name": name, "ScheduleExpression": NEVER, "Target": TARGET, "FlexibleTimeWindow": {"Mode": "OFF"}}


def seed(server: ServerProcess, total: int) -> list[str]:
    scheduler = client("scheduler", server.endpoint)
    names = [f"seed-{i:06d}" for i in range(total)]
    for name in names:
        scheduler.create_schedule(**create_kwargs(name))
    return names


_RUNS = itertools.count()


def create_factory(server: ServerProcess) -> WorkerFactory:
    def factory(t: int) -> Callable[[int], Any]:
        scheduler, run = client("scheduler", server.endpoint), next(_RUNS)
        return lambda i: scheduler.create_schedule(**create_kwargs(f"new-{run}-{i + 10}"))

    return factory


def get_factory(server: ServerProcess, names: list[str]) -> WorkerFactory:
    def factory(t: int) -> Callable[[int], Any]:
        scheduler, pick = client("scheduler", server.endpoint), random.Random(t)
        return lambda i: scheduler.get_schedule(Name=pick.choice(names))

    return factory


def update_factory(server: ServerProcess, names: list[str]) -> WorkerFactory:
    def factory(t: int) -> Callable[[int], Any]:
        scheduler, pick = client("scheduler", server.endpoint), random.Random(t)
        return lambda i: scheduler.update_schedule(**create_kwargs(pick.choice(names)), Description=f"v{i}")

    return factory


def list_factory(server: ServerProcess) -> WorkerFactory:
    def factory(t: int) -> Callable[[int], Any]:
        scheduler = client("scheduler", server.endpoint)
        return lambda i: _check_page(scheduler.list_schedules(NamePrefix="seed-", MaxResults=100))

    return factory


def _check_page(response: dict[str, Any]) -> None:
    if len(response["Schedules"]) != 100:
        raise RuntimeError(f"a page of {len(response['Schedules'])} schedules, not 100")


OPERATIONS: list[tuple[str, Callable[[ServerProcess, list[str]], WorkerFactory]]] = [
    ("CreateSchedule", lambda s, names: create_factory(s)),
    ("GetSchedule", get_factory),
    ("UpdateSchedule", update_factory),
    ("ListSchedules (a page of 100)", lambda s, names: list_factory(s)),
]


def run(quick: bool = False) -> None:
    """Start moto and cronbridge, seed both, measure every operation on both, print tables and ratios."""
    sizes = QUICK if quick else FULL
    print(f"sizes: {sizes}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cronbridge-bench-") as tmp:
        servers = [moto_server(Path(tmp) / "moto").start(),
                   cronbridge_server(Path(tmp) / "cb", launcher="noop").start()]
        try:
            names = {s.name: seed(s, sizes.seeded) for s in servers}
            for title, make in OPERATIONS:
                results = [_measure(s, make(s, names[s.name]), n, sizes) for s in servers for n in THREADS]
                print_operation(f"{title}, {sizes.seeded:,} schedules stored", results)
        finally:
            for server in servers:
                server.stop()


def _measure(server: ServerProcess, factory: WorkerFactory, threads: int, sizes: Sizes) -> Result:
    return measure(server, factory, threads, sizes.duration)


def print_operation(title: str, results: list[Result]) -> None:
    peers = {r.threads: r.rps for r in results if r.server == "moto"}
    rows = [
        [r.server, str(r.threads), f"{r.rps:,.0f}", f"{r.p_ms(50):.2f}", f"{r.p_ms(99):.2f}",
         f"{r.cpu_ms_per_call:.2f}", "" if r.server == "moto" else ratio(r.rps, peers.get(r.threads, 0.0))]
        if r.calls else [r.server, str(r.threads), "FAILED", "-", "-", "-", "-"]
        for r in results
    ]
    headers = ["server", "threads", "req/s", "p50 ms", "p99 ms", "srv cpu ms/req", "vs moto"]
    print(f"\n## {title}\n" + render_table(headers, rows), flush=True)
    for r in results:
        if r.errors:
            print(f"  ! {r.server} x{r.threads}: {r.first_error}", flush=True)
