"""Console benchmark: page times with 10,000 rules and 100,000 tasks, against the same pages with one page's worth.

The peer is cronbridge itself with 60 rules and 60 tasks (one page of each, so the same rows render): the ratio says
how much a big installation slows a page (pages read one indexed page with LIMIT, so it should stay near 1x).
"""

from __future__ import annotations

import http.cookiejar
import re
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.harness import ServerProcess, cronbridge_server, percentile, ratio, render_table, signed_request
from cronbridge.config import Settings
from cronbridge.model.ecs import Container, StopCode, Task, TaskStatus
from cronbridge.model.events import EcsParameters, Rule, Target
from cronbridge.scope import Scope
from cronbridge.system import System

REGION, ACCOUNT = "us-east-1", "000000000000"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/bench"
TASKDEF_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/bench:1"
PAGES = (
    "/console/schedules",
    "/console/schedules?after={rule}",
    "/console/rules/{rule}",
    "/console/tasks",
    "/console/tasks?before={cursor}",
    "/console/clusters",
    "/_cronbridge/rules?limit=100",
    "/_cronbridge/tasks",
)


def fill(data_dir: Path, rules: int, tasks: int) -> str:
    """Store `rules` rules (each with a target) and `tasks` stopped tasks; returns a mid-list task cursor."""
    system = System(Settings(data_dir=data_dir, launcher="noop"))
    here = Scope(ACCOUNT, REGION)
    system.ecs.create_cluster(here, "bench")
    target = Target(id="t", arn=CLUSTER_ARN, ecs_parameters=EcsParameters(task_definition_arn=TASKDEF_ARN))
    with system.db.transaction():
        for i in range(rules):
            name = f"rule-{i:05d}"
            system.events.put_rule(here, Rule(name=name, schedule_expression="cron(*/30 * * * ? *)"))
            system.events.put_targets(here, name, [target])
    now = time.time()
    cursor = ""
    with system.db.transaction():
        for i in range(tasks):
            task = _task(i, now - 3000 + 3000 * i / tasks)  # all within ECS's hour: none expire during the run
            system.ecs.tasks.save(task)
            if i == tasks // 2:
                cursor = f"{task.created_at!r}|{task.task_arn}"
    system.close()
    return cursor


def _task(i: int, created: float) -> Task:
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/bench/{i:032x}"
    return Task(
        task_arn=arn,
        cluster_arn=CLUSTER_ARN,
        task_definition_arn=TASKDEF_ARN,
        last_status=TaskStatus.STOPPED,
        desired_status="STOPPED",
        cpu="256",
        memory="512",
        started_by="events-rule/rule-00001",
        created_at=created,
        started_at=created + 0.01,
        stopped_at=created + 1,
        launcher="noop",
        stop_code=StopCode.ESSENTIAL_CONTAINER_EXITED,
        stopped_reason="Essential container in task exited",
        containers=[Container(container_arn=f"{arn}/c", task_arn=arn, name="app", last_status="STOPPED", exit_code=0)],
    )


def signed_in(server: ServerProcess) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(server.endpoint + "/console/signin") as page:
        token = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())
    assert token is not None
    form = {"csrf": token.group(1), "access_key_id": "AKIDBENCH", "secret_access_key": "x"}
    opener.open(server.endpoint + "/console/signin", urllib.parse.urlencode(form).encode()).read()
    return opener


def time_pages(server: ServerProcess, cursor: str, rule: str, repeats: int) -> dict[str, list[float]]:
    opener = signed_in(server)
    times: dict[str, list[float]] = {}
    for path in PAGES:
        where = path.replace("{cursor}", urllib.parse.quote(cursor)).replace("{rule}", rule)

        def request(where: str = where) -> urllib.request.Request | str:
            """Console pages ride the session cookie; our own endpoints are SigV4-signed, as the CLI signs them."""
            return signed_request(server.endpoint, where) if where.startswith("/_cronbridge/") else (
                server.endpoint + where)

        opener.open(request()).read()  # warm
        samples = times.setdefault(path, [])
        for _ in range(repeats):
            started = time.perf_counter()
            with opener.open(request()) as answer:
                answer.read()
                assert answer.status == 200, where
            samples.append((time.perf_counter() - started) * 1000)
    return times


def measure(work: Path, name: str, rules: int, tasks: int, repeats: int) -> dict[str, list[float]]:
    data = work / name
    started = time.perf_counter()
    cursor = fill(data, rules, tasks)
    print(f"  {name}: stored {rules} rules and {tasks} tasks in {time.perf_counter() - started:.1f} s", flush=True)
    server = cronbridge_server(data, launcher="noop").start()
    try:
        return time_pages(server, cursor, f"rule-{rules // 2:05d}", repeats)
    finally:
        server.stop()


def run(quick: bool = False) -> None:
    rules, tasks, repeats = (1_000, 10_000, 10) if quick else (10_000, 100_000, 30)
    with tempfile.TemporaryDirectory() as tmp:
        big = measure(Path(tmp), "big", rules, tasks, repeats)
        small = measure(Path(tmp), "one page", 60, 60, repeats)
    rows = []
    for path in PAGES:
        ours, peer = percentile(big[path], 50), percentile(small[path], 50)
        rows.append([path, f"{ours:.1f}", f"{percentile(big[path], 99):.1f}", f"{peer:.1f}", ratio(ours, peer)])
    headers = [f"page ({rules} rules, {tasks} tasks)", "p50 ms", "p99 ms", "60/60 p50 ms", "big/small"]
    print(render_table(headers, rows))
