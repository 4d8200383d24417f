"""ECS's nouns: clusters, task definitions and their container definitions, tasks and their containers."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class TaskStatus(enum.StrEnum):
    """ECS's task lifecycle, in order."""

    PROVISIONING = "PROVISIONING"
    PENDING = "PENDING"
    ACTIVATING = "ACTIVATING"
    RUNNING = "RUNNING"
    DEACTIVATING = "DEACTIVATING"
    STOPPING = "STOPPING"
    DEPROVISIONING = "DEPROVISIONING"
    STOPPED = "STOPPED"


class StopCode(enum.StrEnum):
    TASK_FAILED_TO_START = "TaskFailedToStart"
    ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
    USER_INITIATED = "UserInitiated"
    SERVICE_SCHEDULER_INITIATED = "ServiceSchedulerInitiated"


@dataclass
class KeyValue:
    name: str | None = None
    value: str | None = None


@dataclass
class Tag:
    key: str | None = None
    value: str | None = None


@dataclass
class LogConfiguration:
    log_driver: str = "awslogs"
    options: dict[str, str] = field(default_factory=dict)
    secret_options: list[dict[str, Any]] | None = None


@dataclass
class ContainerDependency:
    container_name: str = ""
    condition: str = "START"


@dataclass
class ContainerDefinition:
    name: str = ""
    image: str = ""
    cpu: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None
    essential: bool | None = None
    entry_point: list[str] | None = None
    command: list[str] | None = None
    environment: list[KeyValue] | None = None
    environment_files: list[dict[str, Any]] | None = None
    working_directory: str | None = None
    user: str | None = None
    readonly_root_filesystem: bool | None = None
    ulimits: list[dict[str, Any]] | None = None
    mount_points: list[dict[str, Any]] | None = None
    volumes_from: list[dict[str, Any]] | None = None
    port_mappings: list[dict[str, Any]] | None = None
    depends_on: list[ContainerDependency] | None = None
    health_check: dict[str, Any] | None = None
    start_timeout: int | None = None
    stop_timeout: int | None = None
    log_configuration: LogConfiguration | None = None
    docker_labels: dict[str, str] | None = None
    secrets: list[dict[str, Any]] | None = None
    links: list[str] | None = None
    hostname: str | None = None
    privileged: bool | None = None
    interactive: bool | None = None
    pseudo_terminal: bool | None = None


@dataclass
class TaskDefinition:
    task_definition_arn: str = ""
    family: str = ""
    revision: int = 0
    container_definitions: list[ContainerDefinition] = field(default_factory=list)
    status: str = "ACTIVE"
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    network_mode: str | None = None
    volumes: list[dict[str, Any]] | None = None
    requires_compatibilities: list[str] | None = None
    compatibilities: list[str] | None = None
    runtime_platform: dict[str, Any] | None = None
    placement_constraints: list[dict[str, Any]] | None = None
    cpu: str | None = None
    memory: str | None = None
    registered_at: float | None = None
    deregistered_at: float | None = None
    registered_by: str | None = None
    tags: list[Tag] | None = None
    pid_mode: str | None = None
    ipc_mode: str | None = None
    ephemeral_storage: dict[str, Any] | None = None
    proxy_configuration: dict[str, Any] | None = None  # kept and shown as registered (App Mesh's proxy)
    inference_accelerators: list[dict[str, Any]] | None = None  # kept and shown as registered

    def container(self, name: str) -> ContainerDefinition | None:
        return next((c for c in self.container_definitions if c.name == name), None)


@dataclass
class Cluster:
    cluster_arn: str = ""
    cluster_name: str = ""
    status: str = "ACTIVE"
    tags: list[Tag] | None = None
    settings: list[dict[str, Any]] | None = None
    configuration: dict[str, Any] | None = None
    service_connect_defaults: dict[str, Any] | None = None
    capacity_providers: list[str] | None = None
    default_capacity_provider_strategy: list[dict[str, Any]] | None = None
    registered_container_instances_count: int = 0
    running_tasks_count: int = 0
    pending_tasks_count: int = 0
    active_services_count: int = 0


@dataclass
class ContainerOverride:
    name: str | None = None
    command: list[str] | None = None
    environment: list[KeyValue] | None = None
    cpu: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None


@dataclass
class TaskOverride:
    container_overrides: list[ContainerOverride] = field(default_factory=list)
    inference_accelerator_overrides: list[dict[str, str]] = field(default_factory=list)  # shown, always a list
    cpu: str | None = None
    memory: str | None = None
    task_role_arn: str | None = None
    execution_role_arn: str | None = None


@dataclass
class Container:
    container_arn: str = ""
    task_arn: str = ""
    name: str = ""
    image: str = ""
    last_status: str = "PENDING"
    exit_code: int | None = None
    reason: str | None = None
    runtime_id: str | None = None
    cpu: str | None = None
    memory: str | None = None
    memory_reservation: str | None = None
    health_status: str = "UNKNOWN"
    limits_enforced: list[str] | None = None
    node: str | None = None  # internal: the Swarm node that runs it (DescribeTasks shows it in `attributes`)


@dataclass
class Attachment:
    id: str = ""
    type: str = "ElasticNetworkInterface"
    status: str = "ATTACHED"
    details: list[KeyValue] | None = None


@dataclass
class Task:
    task_arn: str = ""
    cluster_arn: str = ""
    task_definition_arn: str = ""
    last_status: TaskStatus = TaskStatus.PROVISIONING
    desired_status: str = "RUNNING"
    launch_type: str = "FARGATE"
    capacity_provider_name: str | None = None
    container_instance_arn: str | None = None  # where RunTask placed it, when it has placementConstraints
    cpu: str | None = None
    memory: str | None = None
    containers: list[Container] = field(default_factory=list)
    overrides: TaskOverride = field(default_factory=TaskOverride)
    started_by: str | None = None
    group: str | None = None
    created_at: float | None = None
    pull_started_at: float | None = None
    pull_stopped_at: float | None = None
    started_at: float | None = None
    stopping_at: float | None = None
    execution_stopped_at: float | None = None
    stopped_at: float | None = None
    stop_code: StopCode | None = None
    stopped_reason: str | None = None
    health_status: str = "UNKNOWN"
    platform_version: str | None = None
    availability_zone: str | None = None
    attachments: list[Attachment] | None = None
    tags: list[Tag] | None = None
    enable_execute_command: bool = False
    version: int = 1
    launcher: str | None = None
    client_token: str | None = None
    request_fingerprint: str | None = None
    assign_public_ip: bool = False  # the awsvpcConfiguration's assignPublicIp (internal: not on the wire)

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]
