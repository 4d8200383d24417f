"""A launcher that runs nothing: each container 'exits 0' at once. For benchmarks of everything around a launch."""

from __future__ import annotations

import itertools
import queue
import threading

from cronbridge.launchers.base import (
    HOST_NETWORK,
    ContainerHandle,
    ContainerSink,
    ContainerSpec,
    ExitInfo,
    Instance,
    Limits,
    Network,
    this_machine,
)

_ids = itertools.count(1)


class NoopHandle:
    def __init__(self, runtime_id: str) -> None:
        self.runtime_id = runtime_id
        self.limits = Limits(enforced=[])
        self.node: str | None = None

    def stop(self, timeout: float) -> None:
        return None

    def health(self) -> str:
        return "UNKNOWN"


class NoopLauncher:
    """Starts nothing; reports a clean exit from a thread of its own (one for every container), as a real launcher
    reports from its watcher: never from inside `start`."""

    name = "noop"
    start_can_hang = False
    outlives_server = False

    def __init__(self) -> None:
        self._exits: queue.SimpleQueue[ContainerSink] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _report(self) -> None:
        while True:
            self._exits.get().exited(ExitInfo(exit_code=0))

    def network(self, task_id: str, task_arn: str, public: bool) -> Network:
        return HOST_NETWORK

    def instances(self) -> list[Instance]:
        return [this_machine()]

    def prepare(self, spec: ContainerSpec) -> None:
        return None

    def adopt(self, spec: ContainerSpec, sink: ContainerSink, since: float | None) -> ContainerHandle | None:
        return None

    def cleanup(self, task_id: str) -> None:
        return None

    def abandon(self, task_id: str, name: str, runtime_id: str | None) -> str:
        return "nothing ran"

    def start(self, spec: ContainerSpec, sink: ContainerSink) -> ContainerHandle:
        handle = NoopHandle(f"noop-{next(_ids)}")
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._report, daemon=True, name="noop-exits")
                self._thread.start()
        self._exits.put(sink)
        return handle
