"""Several server processes on one port and one database (`--workers 2`): whichever process answers, a request sees
what another process did (task definitions, IAM, sessions), stops a task another process runs, and a worker that
dies leaves no task behind. Connections are pinned to a worker (a kept-alive connection stays with the process that
accepted it), so each test knows which process answers what."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cronbridge.api import sigv4
from cronbridge.store.database import open_database
from fixtures.ecs import execution_role
from fixtures.server import ADMIN_KEY, ADMIN_SECRET, REGION, ServerProcess

ECS = "AmazonEC2ContainerServiceV20141113"
TWO = {"CRONBRIDGE_WORKERS": "2"}


class Pinned:
    """One kept-alive connection, so one worker: signed JSON calls and the health check go to the same process."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.process = self.get("/_cronbridge/health")[1]["process"]

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        self.conn.request("GET", path, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"null")

    def call(self, service: str, target: str, payload: dict[str, Any], json_version: str = "1.1") -> tuple[int, Any]:
        body = json.dumps(payload).encode()
        amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        headers = {"Host": f"127.0.0.1:{self.server.port}", "X-Amz-Date": amz_date, "X-Amz-Target": target,
                   "Content-Type": f"application/x-amz-json-{json_version}"}
        headers["Authorization"] = sigv4.sign("POST", "/", "", headers, body, access_key_id=ADMIN_KEY,
                                              secret_access_key=ADMIN_SECRET, region=REGION, service=service,
                                              amz_date=amz_date)
        self.conn.request("POST", "/", body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"null")

    def ecs(self, action: str, **payload: Any) -> Any:
        status, answer = self.call("ecs", f"{ECS}.{action}", payload)
        assert status == 200, answer
        return answer


def one_per_worker(server: ServerProcess, workers: int = 2, timeout: float = 30) -> list[Pinned]:
    """A pinned connection to each worker (new connections land on one worker or the other)."""
    found: dict[str, Pinned] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pinned = Pinned(server)
        found.setdefault(pinned.process, pinned)
        if len(found) == workers:
            return list(found.values())
        time.sleep(0.01)
    raise AssertionError(f"only {len(found)} of {workers} workers accepted connections within {timeout} s")


def owners(server: ServerProcess) -> dict[str, str]:
    """Which process owns each unfinished task (read from the database, as an operator would)."""
    db = open_database(server.database or f"sqlite://{server.data_dir / 'cronbridge.db'}", migrate=False)
    try:  # the database the workers share, whichever engine
        return {str(r["task_arn"]): str(r["owner"]) for r in db.query("SELECT task_arn, owner FROM task_owners")}
    finally:
        db.close()


def status_of(pinned: Pinned, arn: str) -> dict[str, Any]:
    task: dict[str, Any] = pinned.ecs("DescribeTasks", tasks=[arn])["tasks"][0]
    return task


def wait_status(pinned: Pinned, arn: str, wanted: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (task := status_of(pinned, arn))["lastStatus"] != wanted:
        assert time.monotonic() < deadline, f"{arn} is {task['lastStatus']}, not {wanted}"
        time.sleep(0.05)
    return task


def sleeper(pinned: Pinned, family: str = "nap", seconds: int = 60) -> str:
    pinned.ecs("RegisterTaskDefinition", family=family, containerDefinitions=[
        {"name": "app", "image": "busybox", "memory": 64, "command": ["sleep", str(seconds)]}])
    arn: str = pinned.ecs("RunTask", taskDefinition=family)["tasks"][0]["taskArn"]
    return arn


@pytest.fixture
def two(server_factory: Any) -> ServerProcess:
    server: ServerProcess = server_factory(extra_env=TWO)
    server.client("ecs").create_cluster(clusterName="default")
    return server


def test_two_workers_answer_on_one_port_and_say_so(two: ServerProcess) -> None:
    first, second = one_per_worker(two)
    assert first.process != second.process
    assert first.get("/_cronbridge/health")[1]["workers"] == 2
    assert {first.get("/_cronbridge/health")[1]["scheduler"], second.get("/_cronbridge/health")[1]["scheduler"]} == {
        "holder", "standby"}  # one process fires schedules


def test_a_task_definition_registered_on_one_worker_runs_at_once_on_the_other(two: ServerProcess) -> None:
    first, second = one_per_worker(two)
    for n in range(5):
        family = f"fresh{n}"
        status, answer = second.call("ecs", f"{ECS}.RunTask", {"taskDefinition": family})
        assert status == 400 and answer["__type"] == "ClientException"  # not there yet (and cached as missing)
        revision = first.ecs("RegisterTaskDefinition", family=family, containerDefinitions=[
            {"name": "app", "image": "busybox", "memory": 64, "command": ["true"]}])["taskDefinition"]["revision"]
        assert revision == 1
        ran = second.ecs("RunTask", taskDefinition=family)
        assert ran["tasks"][0]["taskDefinitionArn"].endswith(f"{family}:1")
        first.ecs("RegisterTaskDefinition", family=family, containerDefinitions=[
            {"name": "app", "image": "busybox", "memory": 64, "command": ["true"]}])
        assert second.ecs("RunTask", taskDefinition=family)["tasks"][0]["taskDefinitionArn"].endswith(f"{family}:2")


def test_stop_task_reaches_the_worker_that_runs_the_task(two: ServerProcess) -> None:
    first, second = one_per_worker(two)
    arn = sleeper(first)
    wait_status(first, arn, "RUNNING")
    assert owners(two)[arn] == first.process
    began = time.monotonic()
    stopped = second.ecs("StopTask", task=arn, reason="stopped from the other worker")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    done = wait_status(second, arn, "STOPPED", timeout=20)
    assert done["stoppedReason"] == "stopped from the other worker" and done["stopCode"] == "UserInitiated"
    assert time.monotonic() - began < 15  # the owner noticed the request within milliseconds; `sleep` got SIGTERM
    assert arn not in owners(two)  # a stopped task has no owner


def test_the_task_role_token_works_whichever_worker_answers(two: ServerProcess) -> None:
    first, second = one_per_worker(two)
    role = execution_role(two.client("ecs"))  # trusted by ecs-tasks.amazonaws.com, may write logs
    two.client("logs").create_log_group(logGroupName="/ecs/creds")
    first.ecs("RegisterTaskDefinition", family="creds", taskRoleArn=role, executionRoleArn=role, containerDefinitions=[
        {"name": "app", "image": "busybox", "memory": 64,
         "command": ["sh", "-c", "echo \"$AWS_CONTAINER_AUTHORIZATION_TOKEN\"; sleep 60"],
         "logConfiguration": {"logDriver": "awslogs", "options": {
             "awslogs-group": "/ecs/creds", "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}}}])
    arn = first.ecs("RunTask", taskDefinition="creds")["tasks"][0]["taskArn"]
    wait_status(first, arn, "RUNNING")
    task_id = arn.rsplit("/", 1)[-1]
    token = first_line(two, "/ecs/creds", f"ecs/app/{task_id}")
    for pinned in (first, second, first, second):
        status, answer = pinned.get(f"/_cronbridge/task-credentials/{task_id}", {"Authorization": token})
        assert status == 200 and answer["RoleArn"] == role and answer["AccessKeyId"].startswith("ASIA")
        status, _ = pinned.get(f"/_cronbridge/task-credentials/{task_id}", {"Authorization": token[:-2] + "00"})
        assert status == 403


def first_line(server: ServerProcess, group: str, stream: str, timeout: float = 20) -> str:
    logs = server.client("logs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        if events:
            return str(events[0]["message"])
        time.sleep(0.1)
    raise AssertionError(f"nothing was logged to {stream}")


def test_a_worker_that_dies_leaves_its_tasks_to_a_live_one_and_is_replaced(two: ServerProcess) -> None:
    first, second = one_per_worker(two)
    doomed = [sleeper(first, "doomed") for _ in range(3)]
    kept = sleeper(second, "kept")
    for arn in [*doomed, kept]:
        wait_status(second, arn, "RUNNING")
    os.kill(int(first.process.split(":")[1]), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(owners(two).get(arn) == first.process for arn in doomed):  # the lease holder takes them over
        assert time.monotonic() < deadline, f"the dead worker's tasks were not taken over: {owners(two)}"
        time.sleep(0.1)
    replaced = one_per_worker(two)  # the supervisor started another worker
    assert first.process not in {p.process for p in replaced}
    live = {p.process for p in replaced}
    for arn in doomed:  # each task's monitor outlived the worker: the task runs on, owned by a live worker
        assert status_of(second, arn)["lastStatus"] == "RUNNING" and owners(two).get(arn) in live
    assert status_of(second, kept)["lastStatus"] == "RUNNING" and owners(two)[kept] == second.process
    for arn in doomed:
        replaced[0].ecs("StopTask", task=arn, reason="after the take-over")
        task = wait_status(second, arn, "STOPPED", timeout=30)
        assert task["stoppedReason"] == "after the take-over" and task["stopCode"] == "UserInitiated"


def sqs(pinned: Pinned, action: str, **payload: Any) -> Any:
    status, answer = pinned.call("sqs", f"AmazonSQS.{action}", payload, json_version="1.0")
    assert status == 200, answer
    return answer


def test_a_long_poll_on_one_worker_gets_a_message_sent_through_the_other(two: ServerProcess) -> None:
    first, second = one_per_worker(two)
    url = sqs(first, "CreateQueue", QueueName="across-workers")["QueueUrl"]
    out: dict[str, Any] = {}

    def receive() -> None:
        out["answer"] = sqs(first, "ReceiveMessage", QueueUrl=url, WaitTimeSeconds=20)
        out["at"] = time.monotonic()

    waiter = threading.Thread(target=receive)
    waiter.start()
    time.sleep(1)  # the receive is waiting on the first worker's event loop (or about to: either way it must see it)
    sent = time.monotonic()
    sqs(second, "SendMessage", QueueUrl=url, MessageBody="from the other worker")
    waiter.join(30)
    assert [m["Body"] for m in out["answer"]["Messages"]] == ["from the other worker"]
    assert out["at"] - sent < 10  # found by the waiter's look at the database, long before its 20 s were up


def test_reset_stops_the_tasks_of_every_worker(two: ServerProcess) -> None:
    first, second = one_per_worker(two)
    arns = [sleeper(first, "a", seconds=6137), sleeper(second, "b", seconds=6237)]
    for arn in arns:
        wait_status(first, arn, "RUNNING")
    assert len(running("6137")) == 1 and len(running("6237")) == 1
    two.reset()
    assert owners(two) == {}
    assert running("6137") == [] and running("6237") == []  # both workers stopped their task's process


def running(argument: str) -> list[int]:
    """Processes whose command line is `sleep <argument>`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            words = (proc / "cmdline").read_bytes().split(b"\0")[:2] if proc.name.isdigit() else []
        except OSError:
            continue
        if words == [b"sleep", argument.encode()]:
            found.append(int(proc.name))
    return found
