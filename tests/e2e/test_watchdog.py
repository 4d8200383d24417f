"""A stall is visible: when the event loop, the task writer or the database lock makes no progress for the
watchdog's limit, the server writes every thread's stack to its log once and its health check says "degraded" with
the reason, until progress resumes. Real stalls are injected through the test-only hook (CRONBRIDGE_TEST_HOOKS=1)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from typing import Any

import pytest

from fixtures.server import ServerProcess

HOOKED = {"CRONBRIDGE_TEST_HOOKS": "1", "CRONBRIDGE_WATCHDOG_SECONDS": "1", "CRONBRIDGE_WORKERS": "1"}
DUMP = "most recent call first"  # faulthandler's words above each thread's stack


def stall(server: ServerProcess, part: str, seconds: float) -> Any:
    request = urllib.request.Request(
        f"{server.endpoint}/_cronbridge/test/stall", data=json.dumps({"part": part, "seconds": seconds}).encode(),
        method="POST", headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=seconds + 30) as response:
        return json.loads(response.read())


def sleeper(server: ServerProcess, seconds: float) -> str:
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName="default")
    ecs.register_task_definition(family="nap", containerDefinitions=[
        {"name": "app", "image": "busybox", "memory": 64, "command": ["sleep", str(seconds)]}])
    arn: str = ecs.run_task(taskDefinition="nap")["tasks"][0]["taskArn"]
    deadline = time.monotonic() + 30
    while ecs.describe_tasks(tasks=[arn])["tasks"][0]["lastStatus"] != "RUNNING":
        assert time.monotonic() < deadline, "the task never ran"
        time.sleep(0.05)
    return arn


def health_until(server: ServerProcess, wanted: str, timeout: float) -> list[dict[str, Any]]:
    """Every health answer until one has status `wanted` (fails after `timeout` seconds)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(server.get("/_cronbridge/health"))
        if seen[-1]["status"] == wanted:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"health never said {wanted!r} within {timeout} s: {seen[-3:]}")


@pytest.mark.parametrize("engine", ["sqlite"])  # SQLite's write lock, held (PostgreSQL has none: see test_postgres)
def test_a_stuck_database_lock_makes_the_server_degraded_with_reasons_and_one_stack_dump(server_factory: Any) -> None:
    server = server_factory(extra_env=HOOKED)
    arn = sleeper(server, 1)  # it exits while the lock is held: its last steps wait for the writer
    assert server.get("/_cronbridge/health")["status"] == "ok"
    stall(server, "database", 8)
    blocked = threading.Thread(target=lambda: server.client("ecs").list_clusters(), daemon=True)
    blocked.start()  # a request that waits for the lock (the health check does not)
    degraded = health_until(server, "degraded", 7)
    stalls = {reason for answer in degraded for reason in answer["stalls"]}
    assert any(r.startswith("the database lock made no progress for") for r in stalls), stalls
    later = health_until(server, "degraded", 1) + health_until(server, "ok", 20)  # answered all along, then ok
    assert any("the task writer made no progress" in r for answer in later for r in answer["stalls"])
    blocked.join(20)
    log = server.log_path.read_text()
    assert log.count("cronbridge watchdog: ") == 1  # one dump for the whole episode
    dump = log[log.index("cronbridge watchdog: "):]
    assert DUMP in dump and "hold_the_database" in dump  # the stack of the thread that holds the lock
    deadline = time.monotonic() + 10
    while "stall over" not in server.log_path.read_text():  # the watchdog's next look logs the end
        assert time.monotonic() < deadline, "the end of the stall was not logged"
        time.sleep(0.1)
    ecs = server.client("ecs")
    assert ecs.describe_tasks(tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED"  # nothing was lost meanwhile


def test_a_stalled_event_loop_is_logged_with_every_stack_and_the_server_recovers(server_factory: Any) -> None:
    server = server_factory(extra_env=HOOKED)
    assert stall(server, "loop", 4) == {"stalled": "loop", "seconds": 4}  # answered once the loop runs again
    log = server.log_path.read_text()
    assert "cronbridge watchdog: the event loop made no progress for" in log
    dump = log[log.index("cronbridge watchdog: "):]
    assert DUMP in dump and "stall_the_event_loop" in dump
    assert health_until(server, "ok", 10)[-1]["stalls"] == []


def test_the_fixture_tells_a_stalled_server_and_takes_its_stacks(server_factory: Any) -> None:
    server = server_factory(extra_env=HOOKED)
    def stall_quietly() -> None:
        with contextlib.suppress(OSError):  # the server is killed under the request
            stall(server, "loop", 10)

    threading.Thread(target=stall_quietly, daemon=True).start()
    time.sleep(1)
    problem = server.problem(patience=2)
    assert problem is not None and "did not answer its health check" in problem
    assert "stall_the_event_loop" in server.stack_dump()
    server.kill()
    server.start()
    assert server.problem() is None


def test_the_test_hook_is_not_served_without_the_variable(cronbridge_server: ServerProcess) -> None:
    request = urllib.request.Request(f"{cronbridge_server.endpoint}/_cronbridge/test/stall", data=b"{}", method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code in (400, 403, 404)
    else:
        raise AssertionError("the stall hook answered on a server without CRONBRIDGE_TEST_HOOKS")
