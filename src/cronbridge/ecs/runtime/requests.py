"""RunTask in domain terms: the request, its result, and the checks ECS makes before any task is recorded."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from cronbridge.codec import encode
from cronbridge.ecs import fargate
from cronbridge.errors import InvalidParameter
from cronbridge.model.ecs import Tag, Task, TaskDefinition, TaskOverride
from cronbridge.scope import Scope

MAX_OVERRIDE_CHARS = 8192
HOST_CPU_UNITS = (os.cpu_count() or 1) * 1024


@dataclass
class RunTaskRequest:
    """A RunTask call in domain terms."""

    region: str
    account: str
    task_definition: str
    cluster: str = "default"
    count: int = 1
    launch_type: str | None = None
    platform_version: str | None = None
    network_configuration: dict[str, Any] | None = None
    overrides: TaskOverride | None = None
    started_by: str | None = None
    group: str | None = None
    client_token: str | None = None
    enable_execute_command: bool = False
    tags: list[Tag] | None = None
    propagate_tags: str | None = None
    capacity_provider_strategy: list[dict[str, Any]] | None = None
    placement_constraints: list[dict[str, Any]] | None = None  # RunTask's own, as on the wire (type, expression)

    @property
    def scope(self) -> Scope:
        return Scope(self.account, self.region)


@dataclass
class Failure:
    arn: str | None
    reason: str
    detail: str | None = None


@dataclass
class RunTaskResult:
    tasks: list[Task]
    failures: list[Failure] = field(default_factory=list)


TaskStart = tuple[Task, TaskDefinition]  # a recorded task whose containers are yet to start


def check_request(req: RunTaskRequest, definition: TaskDefinition, overrides: TaskOverride) -> None:
    if req.launch_type and req.capacity_provider_strategy:
        raise InvalidParameter(
            "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."
        )
    if not 1 <= req.count <= 10:
        raise InvalidParameter("Count must be between 1 and 10.")
    blob = json.dumps(encode(overrides), separators=(",", ":"))
    if len(blob) > MAX_OVERRIDE_CHARS:
        raise InvalidParameter(f"Container Overrides length must be at most {MAX_OVERRIDE_CHARS}")
    for override in overrides.container_overrides:
        if override.name is None or definition.container(override.name) is None:
            raise InvalidParameter(
                f"Override for container named {override.name} is not a container in the TaskDefinition."
            )
    fargate_awsvpc = (req.launch_type or "FARGATE") == "FARGATE" and definition.network_mode == "awsvpc"
    if fargate_awsvpc and not (req.network_configuration or {}).get("awsvpc_configuration"):
        raise InvalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.")


def placement_failure(definition: TaskDefinition, overrides: TaskOverride) -> tuple[str, str] | None:
    """ECS answers a task no capacity can hold with failures[] (RESOURCE:CPU / RESOURCE:MEMORY), not an error.
    Here the capacity is this machine's."""
    containers = definition.container_definitions
    cpu = fargate.cpu_units(overrides.cpu or definition.cpu) or sum(c.cpu or 0 for c in containers)
    memory = fargate.memory_mib(overrides.memory or definition.memory) or sum(
        c.memory or c.memory_reservation or 0 for c in containers
    )
    host_cpu = HOST_CPU_UNITS
    host_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    if cpu > host_cpu:
        return "RESOURCE:CPU", f"the task needs {cpu} CPU units; this machine has {host_cpu}"
    if memory > host_memory:
        return "RESOURCE:MEMORY", f"the task needs {memory} MiB; this machine has {host_memory} MiB"
    return None


def fingerprint(req: RunTaskRequest) -> str:
    """What a repeated clientToken must match: the same definition, count, overrides and startedBy."""
    overrides = encode(req.overrides or TaskOverride())
    return json.dumps([req.task_definition.rsplit("/", 1)[-1], req.count, overrides, req.started_by], sort_keys=True)
