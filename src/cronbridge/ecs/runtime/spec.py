"""What a launcher is asked to start: a container definition, the task's overrides and the task role's endpoint."""

from __future__ import annotations

import uuid

from cronbridge.ecs import containers, fargate
from cronbridge.launchers.base import ContainerSpec, Network
from cronbridge.model.ecs import ContainerDefinition, ContainerOverride, KeyValue, Task, TaskDefinition

DEFAULT_STOP_TIMEOUT = 30.0  # a container's stopTimeout when it has none (ECS's default)


def container_spec(
    task: Task, definition: TaskDefinition, container: ContainerDefinition, role_environment: dict[str, str]
) -> ContainerSpec:
    """The launch spec of one container: the override's command, cpu and memory over the definition's."""
    override = next((o for o in task.overrides.container_overrides if o.name == container.name), None)
    command = override.command if override is not None and override.command is not None else container.command
    environment = {**containers.environment(container, override), **role_environment}
    return ContainerSpec(
        task_id=task.task_id,
        task_arn=task.task_arn,
        name=container.name,
        image=container.image,
        command=tuple(command) if command is not None else None,
        entry_point=tuple(container.entry_point) if container.entry_point else None,
        environment=tuple(environment.items()),
        working_directory=container.working_directory,
        user=container.user,
        cpu=_container_cpu(task, container, override),
        memory=_container_memory(task, container, override),
        memory_reservation=(override.memory_reservation if override else None) or container.memory_reservation,
        readonly_root_filesystem=bool(container.readonly_root_filesystem),
        ulimits=containers.ulimits(container),
        mounts=containers.mounts(task.task_id, definition, container),
        network_mode=definition.network_mode or "awsvpc",
        labels=(("cronbridge.task-arn", task.task_arn),),
        health_check=containers.health_check(container),
        stop_timeout=float(container.stop_timeout) if container.stop_timeout else DEFAULT_STOP_TIMEOUT,
        instance_id=task.container_instance_arn.rsplit("/", 1)[-1] if task.container_instance_arn else None,
    )


def network_details(details: list[KeyValue], network: Network) -> list[KeyValue]:
    """The subnet kept; the interface, MAC and address the launcher reported; how the task is networked."""
    kept = [d for d in details if d.name == "subnetId"]
    found = {
        "networkInterfaceId": network.interface_id or f"eni-{uuid.uuid4().hex[:17]}",
        "macAddress": network.mac,
        "privateIPv4Address": network.address,
        "cronbridge.networkNamespace": network.namespace,
        "cronbridge.outboundAccess": network.outbound,
    }
    return kept + [KeyValue(name, value) for name, value in found.items() if value]


def _container_cpu(task: Task, d: ContainerDefinition, override: ContainerOverride | None) -> int | None:
    if override is not None and override.cpu is not None:
        return int(override.cpu)
    if d.cpu:
        return d.cpu
    return fargate.cpu_units(task.cpu)


def _container_memory(task: Task, d: ContainerDefinition, override: ContainerOverride | None) -> int | None:
    if override is not None and override.memory is not None:
        return int(override.memory)
    return d.memory or fargate.memory_mib(task.memory)
