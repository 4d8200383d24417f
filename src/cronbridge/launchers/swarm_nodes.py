"""The nodes of a Docker Swarm, seen by the Swarm launcher: their ECS attributes (for placementConstraints), the
Swarm constraints that admit exactly the nodes an ECS expression admits, and each node's own engine when cronbridge
can reach it (stop with a signal, the kernel's OOM record, removal of a finished job's container)."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import docker
from docker.errors import APIError, DockerException

from cronbridge.ecs import placement
from cronbridge.errors import LaunchError

ENGINE_LABEL = "cronbridge.engine"  # a node label: the URL of that node's Docker engine (unix://..., tcp://...)
UNREACHABLE_TTL = 10.0
_ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
_NOT_ON_SWARM = ("task:group", "runningTasksCount")  # subjects about other tasks: Swarm has no equivalent


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
        "attribute:ecs.cpu-architecture": _ARCHITECTURES.get(str(platform.get("Architecture", "")), ""),
    }
    for name, value in ((node.get("Spec") or {}).get("Labels") or {}).items():
        found[f"attribute:{name}"] = str(value)
    return {k: v for k, v in found.items() if v}


def usable(node: dict[str, Any]) -> bool:
    """Ready and active: a node Swarm would place a task on."""
    return (node.get("Status") or {}).get("State") == "ready" and (node.get("Spec") or {}).get(
        "Availability"
    ) == "active"


def constraints_for(expressions: tuple[tuple[str, str], ...], nodes: list[dict[str, Any]]) -> list[str]:
    """Swarm constraints admitting exactly the nodes every memberOf expression admits: none when all do, `node.id==`
    when one does, else `node.id!=` for each node left out. Raises LaunchError when no usable node qualifies."""
    parsed = [_parse(kind, text) for kind, text in expressions]
    if not parsed:
        return []
    members = [n for n in nodes if all(e.holds(attributes(n)) for e in parsed)]
    if not any(usable(n) for n in members):
        shown = " and ".join(text for _, text in expressions)
        raise LaunchError(
            "ResourceInitializationError",
            f"no Swarm node satisfies the task definition's placement constraints ({shown}); "
            f"{sum(usable(n) for n in nodes)} node(s) are ready and active",
        )
    if len(members) == len(nodes):
        return []
    if len(members) == 1:
        return [f"node.id=={members[0]['ID']}"]
    kept = {n["ID"] for n in members}
    return [f"node.id!={n['ID']}" for n in nodes if n["ID"] not in kept]


def _parse(kind: str, text: str) -> placement.Expression:
    if kind != "memberOf":
        raise LaunchError("ResourceInitializationError", f"placement constraint type {kind!r} is not memberOf")
    try:
        expression = placement.parse(text)
    except placement.ExpressionError as exc:
        raise LaunchError("ResourceInitializationError", f"placement constraint {text!r}: {exc}") from exc
    unsupported = sorted(s for s in placement.subjects(expression) if s.startswith(_NOT_ON_SWARM))
    if unsupported:
        raise LaunchError(
            "ResourceInitializationError",
            f"placement constraint {text!r}: {', '.join(unsupported)} has no equivalent on a Docker Swarm",
        )
    return expression


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
