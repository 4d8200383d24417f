"""A new task's record as RunTask creates it: ARNs, containers, the awsvpc attachment, PROVISIONING."""

from __future__ import annotations

import random
import uuid
from typing import Any

from cronbridge import arn as arns
from cronbridge.ecs.runtime.requests import RunTaskRequest, fingerprint
from cronbridge.model.ecs import (
    Attachment,
    Container,
    ContainerDefinition,
    KeyValue,
    Task,
    TaskDefinition,
    TaskOverride,
)


def new_task(
    req: RunTaskRequest, cluster_arn: str, definition: TaskDefinition, overrides: TaskOverride, now: float,
    launcher: str, container_instance_arn: str | None = None,
) -> Task:
    task_id = _uuid4().hex
    cluster_name = cluster_arn.rsplit("/", 1)[-1]
    task_arn = arns.build("ecs", req.region, req.account, f"task/{cluster_name}/{task_id}")
    launch_type = req.launch_type or "FARGATE"
    return Task(
        task_arn=task_arn,
        cluster_arn=cluster_arn,
        task_definition_arn=definition.task_definition_arn,
        launch_type=launch_type,
        capacity_provider_name=capacity_provider(req.capacity_provider_strategy),
        container_instance_arn=container_instance_arn,
        cpu=overrides.cpu or definition.cpu,
        memory=overrides.memory or definition.memory,
        containers=[_container(req, cluster_name, task_id, task_arn, c) for c in definition.container_definitions],
        overrides=overrides,
        started_by=req.started_by,
        group=req.group or f"family:{definition.family}",
        created_at=now,
        platform_version=req.platform_version or ("1.4.0" if launch_type == "FARGATE" else None),
        availability_zone=f"{req.region}a",
        attachments=_attachments(req, definition),
        tags=req.tags,
        enable_execute_command=req.enable_execute_command,
        launcher=launcher,
        client_token=req.client_token,
        request_fingerprint=fingerprint(req) if req.client_token else None,
        assign_public_ip=_public_ip(req),
    )


def capacity_provider(strategy: list[dict[str, Any]] | None) -> str | None:
    """The capacity provider a strategy places a task with: the one with a base (its first tasks go there), else
    the heaviest weight (one machine: every task of a run goes to the same one)."""
    if not strategy:
        return None
    based = [s for s in strategy if int(s.get("base") or 0) > 0]
    chosen = based[0] if based else max(strategy, key=lambda s: int(s.get("weight") or 0))
    return str(chosen.get("capacity_provider") or chosen.get("capacityProvider") or "") or None


def _container(req: RunTaskRequest, cluster: str, task_id: str, task_arn: str, c: ContainerDefinition) -> Container:
    resource = f"container/{cluster}/{task_id}/{_uuid4()}"
    return Container(
        container_arn=arns.build("ecs", req.region, req.account, resource),
        task_arn=task_arn,
        name=c.name,
        image=c.image,
        cpu=str(c.cpu) if c.cpu is not None else None,
        memory=str(c.memory) if c.memory is not None else None,
        memory_reservation=str(c.memory_reservation) if c.memory_reservation is not None else None,
    )


def _attachments(req: RunTaskRequest, definition: TaskDefinition) -> list[Attachment] | None:
    if definition.network_mode != "awsvpc":
        return None
    vpc = (req.network_configuration or {}).get("awsvpc_configuration") or {}
    subnets = vpc.get("subnets") or []
    details = [KeyValue("subnetId", subnets[0] if subnets else "subnet-local")]
    return [Attachment(id=str(_uuid4()), status="PRECREATED", details=details)]


def _public_ip(req: RunTaskRequest) -> bool:
    vpc = (req.network_configuration or {}).get("awsvpc_configuration") or {}
    return str(vpc.get("assign_public_ip") or "").upper() == "ENABLED"


def _uuid4() -> uuid.UUID:
    """A random (version 4) UUID from the interpreter's generator, reseeded in each forked process: a task's ids name
    it, they guard nothing, and a burst of tasks then costs no system call per id."""
    return uuid.UUID(int=random.getrandbits(128), version=4)
