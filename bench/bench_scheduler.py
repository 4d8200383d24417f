"""The scheduler benchmark: next-fire computation against cronsim (bench/next_fire.py); then load N idle rules
(100,000; 1,000,000 with --full), memory per idle rule, fire lateness of 1,000 rules due in the same second, and
sustained invocations per second, against APScheduler 3 in the same run.

Each side runs in a child process of its own (clean memory figures). cronbridge runs the whole System in-process on a
real SQLite file with the noop launcher: every slot is claimed in the durable invocation log, launched by RunTask
(a task row and its lifecycle), and recorded. APScheduler 3 (BackgroundScheduler, memory job store, a pool of 32
threads like ours, misfire_grace_time=None so no late job is dropped) runs a job that only notes the time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import next_fire
from bench.harness import percentile, proc_status_kib, ratio, render_table

IDLE = "cron(0 3 * * ? *)"  # daily: idle during the run
REGION, ACCOUNT = "us-east-1", "000000000000"


@dataclass(frozen=True)
class Sizes:
    idle: int
    burst: int  # due in the same second: lateness
    sustained: int  # due in the same second: invocations per second until all are recorded
    big: int  # due in the same second: lateness of a big burst


QUICK = Sizes(idle=10_000, burst=1_000, sustained=2_000, big=2_000)
DEFAULT = Sizes(idle=100_000, burst=1_000, sustained=5_000, big=10_000)
FULL = Sizes(idle=1_000_000, burst=1_000, sustained=5_000, big=10_000)


def rss_kib() -> int:
    return proc_status_kib(os.getpid(), "VmRSS") or 0


class ShiftedClock:
    """The system clock moved by an offset the bench sets (to put a minute boundary a moment ahead)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def wait_until(self, deadline: float, wake: threading.Event) -> bool:
        while True:
            remaining = deadline - self.now()
            if remaining <= 0:
                return wake.is_set()
            if wake.wait(min(remaining, 0.05)):
                return True


# cronbridge ------------------------------------------------------------------
def events_role(system: Any, task_definition_arn: str) -> str:
    """The seed's events role (trusted by events.amazonaws.com, may run the task definition): IAM is enforced on
    every scheduled launch, and a target without a role is refused (AccessDeniedException), not launched."""
    from cronbridge import seed_iam

    role = system.identity.create_role(seed_iam.EVENTS_ROLE, json.dumps(seed_iam.trust("events.amazonaws.com")))
    document = json.dumps(seed_iam.events_policy(task_definition_arn))
    policy = system.identity.policies.create(seed_iam.EVENTS_POLICY, document)
    system.identity.policies.attach("role", seed_iam.EVENTS_ROLE, policy.arn)
    return str(role.arn)


def run_ours(sizes: Sizes, database: str | None = None) -> dict[str, Any]:
    """cronbridge on a SQLite file, or on the PostgreSQL database `database` names."""
    from cronbridge.config import Settings
    from cronbridge.launchers.noop import NoopLauncher
    from cronbridge.model.ecs import ContainerDefinition, TaskDefinition
    from cronbridge.model.events import EcsParameters, Rule, Target
    from cronbridge.scope import Scope
    from cronbridge.system import System

    clock = ShiftedClock()
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), launcher="noop", database=database)
    system = System(settings, clock=clock, launcher=NoopLauncher())
    here = Scope(ACCOUNT, REGION)
    cluster = system.ecs.create_cluster(here, "bench").cluster_arn
    taskdef = system.ecs.register(
        here,
        TaskDefinition(
            family="bench",
            network_mode="bridge",
            container_definitions=[ContainerDefinition(name="app", image="busybox", memory=64)],
        ),
    ).task_definition_arn
    role = events_role(system, taskdef)
    target = Target(id="t", arn=cluster, role_arn=role, ecs_parameters=EcsParameters(task_definition_arn=taskdef))

    def put(name: str, expression: str) -> None:
        system.events.put_rule(here, Rule(name=name, schedule_expression=expression))
        system.events.put_targets(here, name, [target])

    base = rss_kib()
    started = time.perf_counter()
    for chunk in range(0, sizes.idle, 1000):  # 1,000 rules per transaction (one WAL commit each)
        with system.db.transaction():
            for i in range(chunk, min(chunk + 1000, sizes.idle)):
                put(f"idle-{i:07d}", IDLE)
    stored = time.perf_counter() - started
    system.start()
    scheduler = system.scheduler
    while len(scheduler._heap) < sizes.idle:
        time.sleep(0.01)
    loaded = time.perf_counter() - started
    memory = (rss_kib() - base) * 1024 / sizes.idle

    def burst(prefix: str, count: int) -> tuple[float, list[Any]]:
        boundary = (int(clock.now() // 60) + 2) * 60.0
        planned = len(scheduler._heap)
        for i in range(count):
            put(f"{prefix}-{i:05d}", f"cron({int(boundary // 60) % 60} {int(boundary // 3600) % 24} * * ? *)")
        while len(scheduler._heap) < planned + count:
            time.sleep(0.01)
        clock.offset += boundary - 1.0 - clock.now()  # the boundary is one second away (the engine's wait notices)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(0.2)
            rows = [i for i in scheduler.log.recent(limit=2 * count) if i.rule_name.startswith(prefix)]
            done = [i for i in rows if i.state != "PENDING"]
            if len(done) == count:
                return boundary, done
        raise RuntimeError(f"{prefix}: only {len(done)} of {count} recorded")

    _, done = burst("burst", sizes.burst)
    lateness = [i.started_at - i.scheduled_at for i in done]
    claimed = [i.fired_at - i.scheduled_at for i in done]
    recorded = [i.finished_at - i.scheduled_at for i in done]
    boundary, done = burst("sustained", sizes.sustained)
    elapsed = max(i.finished_at for i in done) - boundary
    _, big = burst("big", sizes.big)
    system.close()
    return {
        "big": [i.started_at - i.scheduled_at for i in big],
        "stored": stored,
        "loaded": loaded,
        "memory": memory,
        "lateness": lateness,
        "claimed": claimed,
        "recorded": recorded,
        "rate": sizes.sustained / elapsed,
        "succeeded": all(i.state == "SUCCEEDED" for i in done),
    }


# APScheduler 3 ---------------------------------------------------------------
def run_peer(sizes: Sizes) -> dict[str, Any]:
    from datetime import UTC, datetime

    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger

    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(32)},
        timezone=UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": False},
    )
    ran: list[tuple[float, float]] = []
    lock = threading.Lock()

    def job(due: float) -> None:
        now = time.time()
        with lock:
            ran.append((due, now))

    base = rss_kib()
    started = time.perf_counter()
    scheduler.start()
    for i in range(sizes.idle):
        scheduler.add_job(job, CronTrigger(hour=3, minute=0, timezone=UTC), args=(0.0,), id=f"idle-{i}")
    loaded = time.perf_counter() - started
    memory = (rss_kib() - base) * 1024 / sizes.idle

    def burst(count: int) -> tuple[float, list[tuple[float, float]]]:
        ran.clear()
        due = float(int(time.time()) + 3)
        when = datetime.fromtimestamp(due, UTC)
        for _ in range(count):
            scheduler.add_job(job, DateTrigger(when), args=(due,))
        deadline = time.monotonic() + 120
        while len(ran) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return due, list(ran)

    _, first = burst(sizes.burst)
    lateness = [now - due for due, now in first]
    due, second = burst(sizes.sustained)
    rate = len(second) / (max(now for _, now in second) - due)
    _, big = burst(sizes.big)
    scheduler.shutdown(wait=False)
    return {
        "big": [now - due for due, now in big],
        "stored": loaded,
        "loaded": loaded,
        "memory": memory,
        "lateness": lateness,
        "rate": rate,
        "succeeded": len(second) == sizes.sustained,
    }


# the run -------------------------------------------------------------------------
def child(side: str, sizes: Sizes, database: str | None = None) -> dict[str, Any]:
    """One side in a child process of its own (clean memory figures); `database` for ours on PostgreSQL."""
    where = f", database={database!r}" if database else ""
    code = (
        "import json, sys; from bench import bench_scheduler as b; "
        f"s = b.Sizes({sizes.idle}, {sizes.burst}, {sizes.sustained}, {sizes.big}); "
        f"print(json.dumps(b.run_{side}(s{where})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"{side} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(quick: bool = False, full: bool = False) -> None:
    sizes = QUICK if quick else FULL if full else DEFAULT
    count = 1_000 if quick else 10_000
    print(f"next fire: {count:,} random cron expressions, parse + first fire after a fixed instant", flush=True)
    print(render_table(next_fire.HEADERS, next_fire.compare(count)), flush=True)
    print(
        f"{sizes.idle:,} idle rules; {sizes.burst:,} due in the same second; {sizes.sustained:,} due together"
        f" for the sustained rate; then {sizes.big:,} due in the same second; noop launcher",
        flush=True,
    )
    ours, peer = child("ours", sizes), child("peer", sizes)
    rows = []
    for label, key, fmt in (("load (s)", "loaded", "{:.2f}"), ("memory per idle rule (bytes)", "memory", "{:.0f}")):
        rows.append([label, fmt.format(ours[key]), fmt.format(peer[key]), ratio(ours[key], peer[key])])
    for label, key in (("fire lateness (slot claimed)", "claimed"), ("launch lateness (RunTask begun)", "lateness")):
        for q in (50, 99, 100):  # APScheduler's job running is its fire, its launch and its record at once
            a, b = percentile(ours[key], q) * 1000, percentile(peer["lateness"], q) * 1000
            rows.append([f"{label} p{q if q < 100 else 'max'} (ms)", f"{a:.1f}", f"{b:.1f}", ratio(a, b)])
    for q in (50, 99, 100):
        a, b = percentile(ours["big"], q) * 1000, percentile(peer["big"], q) * 1000
        rows.append([f"{sizes.big:,} due at once: launch lateness p{q if q < 100 else 'max'} (ms)", f"{a:.1f}",
                     f"{b:.1f}", ratio(a, b)])
    for q in (50, 99, 100):
        a = percentile(ours["recorded"], q) * 1000
        rows.append([f"task recorded (RunTask done) p{q if q < 100 else 'max'} (ms)", f"{a:.1f}", "-", "-"])
    rows.append(
        ["invocations/s (sustained)", f"{ours['rate']:.0f}", f"{peer['rate']:.0f}", ratio(ours["rate"], peer["rate"])]
    )
    print(render_table(["", "cronbridge", "APScheduler 3", "ratio"], rows))
    print(
        f"cronbridge: {ours['stored']:.2f} s storing the rules (SQLite), the rest planning the heap; every"
        f" invocation claimed, launched and recorded durably (all succeeded: {ours['succeeded']})"
    )


if __name__ == "__main__":
    run(quick="--quick" in sys.argv, full="--full" in sys.argv)
