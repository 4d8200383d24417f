"""A live task's lifecycle against a busy database and racing callers: no thread waits for the disk while holding
the task's lock, and reset, StopTask and container exits racing RunTask batches neither hang nor lose a task."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cronbridge.config import Settings
from cronbridge.ecs.runtime.runner import RunTaskRequest
from cronbridge.errors import AwsError
from cronbridge.launchers.base import ContainerHandle, ContainerSink, ContainerSpec, ExitInfo, Limits
from cronbridge.launchers.noop import NoopLauncher
from cronbridge.model.ecs import ContainerDefinition, StopCode, TaskDefinition, TaskStatus
from cronbridge.scope import Scope
from cronbridge.system import System

REGION, ACCOUNT = "us-east-1", "000000000000"


class Held:
    """A container that runs until it is stopped."""

    def __init__(self, sink: ContainerSink, runtime_id: str) -> None:
        self.sink = sink
        self.runtime_id = runtime_id
        self.limits = Limits(enforced=[])
        self.node: str | None = None

    def stop(self, timeout: float) -> None:
        threading.Thread(target=self.sink.exited, args=(ExitInfo(exit_code=143),), daemon=True).start()

    def health(self) -> str:
        return "UNKNOWN"


class HoldingLauncher(NoopLauncher):
    """Containers that run until stopped, or (with `lifetime`) end by themselves after a random short while."""

    name = "holding"

    def __init__(self, lifetime: float | None = None) -> None:
        super().__init__()
        self.lifetime = lifetime
        self.count = 0

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> ContainerHandle:
        self.count += 1
        if self.lifetime is not None:
            delay = random.uniform(0, self.lifetime)
            threading.Timer(delay, sink.exited, args=(ExitInfo(exit_code=0),)).start()
        return Held(sink, f"held-{self.count}")


def setup_system(tmp_path: Path, launcher: NoopLauncher) -> System:
    system = System(Settings(data_dir=tmp_path, auth="open"), launcher=launcher)
    create_work(system)
    return system


def create_work(system: System) -> None:
    system.ecs.create_cluster(Scope(ACCOUNT, REGION), "c")
    system.ecs.register(Scope(ACCOUNT, REGION), TaskDefinition(
        family="f", memory="512", container_definitions=[ContainerDefinition(name="app", image="x")]))


def run(system: System, count: int = 1, token: str | None = None) -> list[str]:
    request = RunTaskRequest(REGION, ACCOUNT, "f", cluster="c", launch_type="EC2", count=count, client_token=token)
    return [t.task_arn for t in system.runner.run_task(request).tasks]


def wait_for(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def holding(tmp_path: Path) -> Iterator[System]:
    system = setup_system(tmp_path, HoldingLauncher())
    yield system
    system.close()


def test_a_stop_waiting_for_a_busy_database_does_not_hold_the_tasks_lock(holding: System) -> None:
    arn = run(holding)[0]
    wait_for(lambda: (t := holding.ecs.tasks.get(arn)) is not None and t.last_status == TaskStatus.RUNNING)
    live = holding.runner._live[arn]
    stopped = threading.Event()

    def stop() -> None:
        live.request_stop("by the test", StopCode.USER_INITIATED)
        stopped.set()

    holding.db.lock.acquire()  # a long commit elsewhere: the stop's durable step must wait for the disk
    try:
        threading.Thread(target=stop, daemon=True).start()
        time.sleep(0.3)
        assert not stopped.is_set()
        assert live.lock.acquire(timeout=2), "the task's lock is held while its step waits for the database"
        live.lock.release()
    finally:
        holding.db.lock.release()
    assert stopped.wait(10)
    wait_for(lambda: (t := holding.ecs.tasks.get(arn)) is not None and t.last_status == TaskStatus.STOPPED)


def test_reset_stop_and_exits_racing_run_task_batches_neither_hang_nor_leave_a_task_unfinished(tmp_path: Path) -> None:
    system = setup_system(tmp_path, HoldingLauncher(lifetime=0.05))
    stop_at = time.monotonic() + 3
    errors: list[BaseException] = []

    def guarded(body: object) -> None:
        try:
            while time.monotonic() < stop_at:
                body()  # type: ignore[operator]
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    def launch() -> None:
        try:  # a reused token with another count is refused inside RunTask's transaction, which rolls back
            run(system, count=random.randint(1, 5), token=f"token-{random.randint(1, 20)}")
        except AwsError as err:  # a reset wiped the cluster: make it again
            if err.code == "ConflictException":
                return
            if err.code not in ("ClusterNotFoundException", "ClientException"):
                raise
            with contextlib.suppress(AwsError):
                create_work(system)

    def stop_some() -> None:
        for task in system.ecs.tasks.unfinished()[:3]:
            with contextlib.suppress(AwsError):
                system.runner.stop_task(Scope(ACCOUNT, REGION), task.cluster_arn, task.task_arn, "racing")
        time.sleep(0.01)

    def reset() -> None:
        time.sleep(0.7)
        system.reset()

    threads = [threading.Thread(target=guarded, args=(body,), daemon=True)
               for body in (launch, launch, launch, stop_some, reset)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not [t for t in threads if t.is_alive()], "a caller hung"
        assert errors == []
        wait_for(lambda: not system.ecs.tasks.unfinished(), timeout=30)
        assert not system.runner._live
    finally:
        system.close()
