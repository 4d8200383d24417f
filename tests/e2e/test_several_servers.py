"""Several servers on one PostgreSQL behave as one service: a task started through one is described, its logs read and
it is stopped through another (the server that runs it is asked through the database, and signals its process); the
tasks of a server that dies are stopped by the next scheduler-lease holder, with a reason, when
it cannot re-attach to them (each server has a data folder of its own, as on separate hosts); a console session
opened on one server is honoured, and ended, on another."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fixtures.ecs import NETWORK, register, stream_messages, wait_stopped
from fixtures.server import ADMIN_KEY, ADMIN_SECRET, ServerProcess
from web.test_console import Browser

SLEEPER = {"containerOverrides": [{"name": "app", "command": ["sh", "-c", "echo started; exec sleep 300"]}]}


def servers(tmp_path: Path, postgres_url: str, count: int = 2) -> list[ServerProcess]:
    """Servers as on separate hosts: data folders of their own, one database."""
    return [ServerProcess(tmp_path / f"s{i}", database=postgres_url).start() for i in range(count)]


def run_sleeper(server: ServerProcess) -> str:
    ecs = server.client("ecs")
    server.client("logs").create_log_group(logGroupName="/ecs/test")
    ecs.create_cluster(clusterName="work")
    register(ecs)
    return str(ecs.run_task(cluster="work", taskDefinition="batch", networkConfiguration=NETWORK,
                            overrides=SLEEPER)["tasks"][0]["taskArn"])


def pid_of(ecs: Any, arn: str) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task = ecs.describe_tasks(cluster="work", tasks=[arn])["tasks"][0]
        runtime_id = task["containers"][0].get("runtimeId", "")
        if runtime_id and task["lastStatus"] == "RUNNING":
            return int(runtime_id.split("-")[1])
        time.sleep(0.05)
    raise AssertionError("the task never ran")


def gone(pid: int) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True


def wait_gone(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.05)


def test_a_task_started_through_one_server_is_described_and_read_through_another(
    tmp_path: Path, postgres_url: str
) -> None:
    one, other = servers(tmp_path, postgres_url)
    try:
        arn = run_sleeper(one)
        pid = pid_of(one.client("ecs"), arn)
        elsewhere = other.client("ecs")
        described = elsewhere.describe_tasks(cluster="work", tasks=[arn])["tasks"][0]
        assert described["lastStatus"] == "RUNNING"
        assert described["containers"][0]["runtimeId"].startswith(f"process-{pid}-")  # the process the other runs
        assert elsewhere.list_tasks(cluster="work")["taskArns"] == [arn]
        stream = f"ecs/app/{arn.rsplit('/', 1)[1]}"
        deadline = time.monotonic() + 60
        while stream_messages(other.client("logs"), "/ecs/test", stream) != ["started"]:
            assert time.monotonic() < deadline, "the task's log never showed through the other server"
            time.sleep(0.1)
        one.client("ecs").stop_task(cluster="work", task=arn, reason="done")  # by the server that runs it
        task = wait_stopped(elsewhere, "work", arn, timeout=60)  # ... seen stopped through the other
        assert task["stoppedReason"] == "done" and task["stopCode"] == "UserInitiated"
        wait_gone(pid)
    finally:
        for server in (one, other):
            server.stop()


def test_a_task_started_through_one_server_is_stopped_through_another(tmp_path: Path, postgres_url: str) -> None:
    one, other = servers(tmp_path, postgres_url)
    try:
        arn = run_sleeper(one)
        pid = pid_of(one.client("ecs"), arn)
        elsewhere = other.client("ecs")
        stopped = elsewhere.stop_task(cluster="work", task=arn, reason="from the other server")["task"]
        assert stopped["desiredStatus"] == "STOPPED"
        task = wait_stopped(elsewhere, "work", arn, timeout=60)
        assert task["stoppedReason"] == "from the other server" and task["stopCode"] == "UserInitiated"
        assert task["containers"][0]["exitCode"] in (137, 143)  # the process was signalled, by the server running it
        wait_gone(pid)
        assert one.client("ecs").describe_tasks(cluster="work", tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED"
    finally:
        for server in (one, other):
            server.stop()


def test_the_tasks_of_a_server_that_died_are_stopped_by_the_next_lease_holder(
    tmp_path: Path, postgres_url: str
) -> None:
    one, other = servers(tmp_path, postgres_url)  # the first started holds the scheduler lease
    try:
        arn = run_sleeper(one)
        pid = pid_of(one.client("ecs"), arn)
        one.kill()  # its task's process outlives it (its monitor holds the pipes), as after a crash
        assert not gone(pid)
        task = wait_stopped(other.client("ecs"), "work", arn, timeout=60)  # its data folder is not the other's
        assert "restarted" in task["stoppedReason"] and "could not re-attach" in task["stoppedReason"]
        wait_gone(pid)  # on this host, the orphan is killed rather than left running
    finally:
        for server in (one, other):
            server.stop()


def test_a_console_session_opened_on_one_server_is_honoured_and_ended_on_another(
    tmp_path: Path, postgres_url: str
) -> None:
    one, other = servers(tmp_path, postgres_url)
    try:
        browser = Browser(one.endpoint)
        assert browser.sign_in(ADMIN_KEY, ADMIN_SECRET).status == 303
        there = Browser(other.endpoint)  # the same cookie, sent to the other server (a load balancer's choice)
        for cookie in browser.jar:
            there.jar.set_cookie(cookie)
        assert there.get("/console/iam").status == 200
        assert there.post("/console/signout", {"csrf": there.csrf("/console/tasks")}).status == 303
        refused = browser.get("/console/iam")  # signed out through the other server: ended here too
        assert refused.status == 303 and refused.headers["location"].startswith("/console/signin")
    finally:
        for server in (one, other):
            server.stop()
