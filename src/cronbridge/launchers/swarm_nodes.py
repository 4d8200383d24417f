"""The nodes of a Docker Swarm, seen by the Swarm launcher: ECS container instances with their attributes (for
placementConstraints), and each node's own engine when cronbridge can reach it (stop with a signal, the kernel's OOM
record, removal of a finished job's container)."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import docker
from docker.errors import APIError, DockerException

from cronbridge.launchers.base import Instance, cpu_architecture

ENGINE_LABEL = "cronbridge.engine"  # a node label: the URL of that node's Docker engine (unix://..., tcp://...)
UNREACHABLE_TTL = 10.0


def attributes(node: dict[str, Any]) -> dict[str, str]:
    """A Swarm node as the subjects of ECS's cluster query language: its id as `ec2InstanceId`, its platform as
    `ecs.os-type` and `ecs.cpu-architecture`, every node label as an attribute of the same name."""
    description = node.get("Description") or {}
    platform = description.get("Platform") or {}
    found = {
        "ec2InstanceId": str(node.get("ID", "")),
        "agentConnected": "true" if (node.get("Status") or {}).get("State") == "ready" else "false",
        "agentVersion": str((description.get("Engine") or {}).get("EngineVersion", "")),
        "registeredAt": str(node.get("CreatedAt", "")),
        "attribute:ecs.os-type": str(platform.get("OS", "")).lower(),
        "attribute:ecs.cpu-architecture": cpu_architecture(str(platform.get("Architecture", ""))),
    }
    for name, value in ((node.get("Spec") or {}).get("Labels") or {}).items():
        found[f"attribute:{name}"] = str(value)
    return {k: v for k, v in found.items() if v}


def usable(node: dict[str, Any]) -> bool:
    """Ready and active: a node Swarm would place a task on."""
    return (node.get("Status") or {}).get("State") == "ready" and (node.get("Spec") or {}).get(
        "Availability"
    ) == "active"


def instance_of(node: dict[str, Any]) -> Instance:
    """A Swarm node as an ECS container instance: its id, attributes and readiness, named `hostname (id)`."""
    node_id = str(node.get("ID", ""))
    hostname = str((node.get("Description") or {}).get("Hostname", ""))
    return Instance(node_id, attributes(node), usable(node), f"{hostname} ({node_id})" if hostname else node_id)


class NodeEngines:
    """Each node's own Docker engine: the manager's node is the engine cronbridge talks to; another node is reached
    at the URL of its `cronbridge.engine` label, or not at all."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager
        self.local_node = str(manager.info().get("Swarm", {}).get("NodeID", ""))
        self._lock = threading.Lock()
        self._engines: dict[str, tuple[Any, float]] = {}  # node id -> (engine or None, when to ask again)
        self._names: dict[str, str] = {}

    def engine(self, node_id: str) -> Any:
        """The node's engine, or None when cronbridge cannot reach it (asked again after UNREACHABLE_TTL seconds:
        a label added later is noticed)."""
        if node_id == self.local_node:
            return self.manager
        with self._lock:
            engine, until = self._engines.get(node_id, (None, 0.0))
        if engine is not None or time.monotonic() < until:
            return engine
        engine = self._connect(node_id)
        with self._lock:
            self._engines[node_id] = (engine, time.monotonic() + UNREACHABLE_TTL)
        return engine

    def _connect(self, node_id: str) -> Any:
        url = self._node(node_id).get("Spec", {}).get("Labels", {}).get(ENGINE_LABEL)
        if not url:
            return None
        try:
            options = docker.utils.kwargs_from_env()
            options["base_url"] = url
            engine = docker.DockerClient(**options)
            return engine if engine.ping() else None
        except (DockerException, OSError):
            return None

    def describe(self, node_id: str) -> str:
        """`hostname (node id)`, as DescribeTasks shows the node a task ran on."""
        with self._lock:
            if node_id in self._names:
                return self._names[node_id]
        hostname = self._node(node_id).get("Description", {}).get("Hostname", "")
        name = f"{hostname} ({node_id})" if hostname else node_id
        with self._lock:
            self._names[node_id] = name
        return name

    def _node(self, node_id: str) -> dict[str, Any]:
        with contextlib.suppress(APIError, DockerException):
            return dict(self.manager.api.inspect_node(node_id))
        return {}
