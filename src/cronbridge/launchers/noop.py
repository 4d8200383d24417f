"""A launcher that runs nothing: each container 'exits 0' at once. For benchmarks of everything around a launch."""

from __future__ import annotations

import itertools
import threading

from cronbridge.launchers.base import (
    HOST_NETWORK,
    ContainerHandle,
    ContainerSink,
    ContainerSpec,
    ExitInfo,
    Limits,
    Network,
)

_ids = itertools.count(1)


class NoopHandle:
    def __init__(self, runtime_id: str) -> None:
        self.runtime_id = runtime_id
        self.limits = Limits(enforced=[])

    def stop(self, timeout: float) -> None:
        return None

    def health(self) -> str:
        return "UNKNOWN"


class NoopLauncher:
    """Starts nothing; reports a clean exit from a short-lived thread, as a real launcher would."""

    name = "noop"

    def network(self, task_id: str, task_arn: str, public: bool) -> Network:
        return HOST_NETWORK

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
        threading.Timer(0.001, sink.exited, args=(ExitInfo(exit_code=0),)).start()
        return handle
