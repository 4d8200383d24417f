"""Clusters, task definitions (validated and revisioned as ECS does) and the task registry."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cronbridge import arn as arns
from cronbridge.clock import Clock
from cronbridge.ecs import dependencies, fargate
from cronbridge.errors import ClientError, ClusterNotFound, InvalidParameter
from cronbridge.model.ecs import Cluster, ContainerDefinition, Tag, Task, TaskDefinition
from cronbridge.store.db import Database
from cronbridge.store.documents import Documents
from cronbridge.store.tasks import TaskStore

STOPPED_TASK_TTL = 3600.0  # stopped tasks stay visible for an hour, as on ECS
CLUSTER = "ecs.cluster"
TASKDEF = "ecs.taskdef"


def taskdef_key(family: str, revision: int) -> str:
    return f"{family}:{revision:08d}"


class EcsService:
    """ECS's control plane state; the runner starts and follows tasks."""

    def __init__(self, db: Database, docs: Documents, clock: Clock) -> None:
        self.db = db
        self.docs = docs
        self.clock = clock
        self.tasks = TaskStore(db)
        self._clusters: dict[str, Cluster | None] = {}
        self._latest: dict[str, TaskDefinition | None] = {}
        self._revisions: dict[tuple[str, int], TaskDefinition] = {}
        self._version = db.data_version()

    # clusters -------------------------------------------------------------
    def create_cluster(self, region: str, account: str, name: str, tags: list[Tag] | None = None) -> Cluster:
        existing = self.docs.get(CLUSTER, name, Cluster)
        if existing is not None and existing.status == "ACTIVE":
            return existing
        cluster = Cluster(
            cluster_arn=arns.build("ecs", region, account, f"cluster/{name}"), cluster_name=name, tags=tags
        )
        self.docs.put(CLUSTER, name, cluster)
        self._clusters.pop(name, None)
        return cluster

    def find_cluster(self, name_or_arn: str | None) -> Cluster | None:
        name = arns.resource_name(name_or_arn or "default", "cluster")
        self._drop_stale_cache()
        if name not in self._clusters:
            self._clusters[name] = self.docs.get(CLUSTER, name, Cluster)
        cluster = self._clusters[name]
        return cluster if cluster is not None and cluster.status == "ACTIVE" else None

    def cluster(self, name_or_arn: str | None) -> Cluster:
        cluster = self.find_cluster(name_or_arn)
        if cluster is None:
            raise ClusterNotFound("Cluster not found.")
        return cluster

    def with_counts(self, cluster: Cluster) -> Cluster:
        return dataclasses.replace(cluster, running_tasks_count=self.tasks.count_active(cluster.cluster_arn))

    def list_clusters(self) -> list[Cluster]:
        return [c for c in self.docs.list(CLUSTER, Cluster) if c.status == "ACTIVE"]

    def delete_cluster(self, name_or_arn: str) -> Cluster:
        cluster = self.cluster(name_or_arn)
        if self.tasks.count_active(cluster.cluster_arn):
            raise ClientError("The Cluster cannot be deleted while Tasks are active.", "ClusterContainsTasksException")
        self.docs.delete(CLUSTER, cluster.cluster_name)
        self._clusters.pop(cluster.cluster_name, None)
        return dataclasses.replace(cluster, status="INACTIVE")

    # task definitions -----------------------------------------------------
    def register(self, region: str, account: str, definition: TaskDefinition) -> TaskDefinition:
        validate_task_definition(definition)
        revision = self.docs.next_value(f"{TASKDEF}:{definition.family}")
        resource = f"task-definition/{definition.family}:{revision}"
        compat = ["EC2", "FARGATE"] if definition.network_mode in (None, "awsvpc") else ["EC2"]
        registered = dataclasses.replace(
            definition,
            revision=revision,
            task_definition_arn=arns.build("ecs", region, account, resource),
            status="ACTIVE",
            compatibilities=compat,
            registered_at=self.clock.now(),
            registered_by=arns.build("iam", "", account, "root"),
        )
        self.docs.put(TASKDEF, taskdef_key(definition.family, revision), registered, parent=definition.family)
        self._latest.pop(definition.family, None)
        return registered

    def task_definition(self, ref: str, active_only: bool = False) -> TaskDefinition:
        """Resolve `family`, `family:rev` or an ARN; a bare family means its latest ACTIVE revision."""
        name = arns.resource_name(ref, "task-definition")
        family, _, rev = name.partition(":")
        found = self._revision(family, int(rev)) if rev.isdigit() else self._latest_active(family)
        if found is None or (active_only and found.status != "ACTIVE"):
            raise ClientError("Unable to describe task definition.")
        return found

    def _revision(self, family: str, revision: int) -> TaskDefinition | None:
        self._drop_stale_cache()
        found = self._revisions.get((family, revision))
        if found is None:
            found = self.docs.get(TASKDEF, taskdef_key(family, revision), TaskDefinition)
            if found is not None:
                self._revisions[(family, revision)] = found
        return found

    def _latest_active(self, family: str) -> TaskDefinition | None:
        self._drop_stale_cache()
        if family not in self._latest:
            revisions = self.docs.list(TASKDEF, TaskDefinition, parent=family)
            active = [d for d in revisions if d.status == "ACTIVE"]
            self._latest[family] = active[-1] if active else None
        return self._latest[family]

    def _drop_stale_cache(self) -> None:
        """Another process sharing the database committed something: the caches may be stale."""
        version = self.db.data_version()
        if version != self._version:
            self._version = version
            self.forget_cached()

    def forget_cached(self) -> None:
        """Drop the read caches (after a reset wipes the database)."""
        self._clusters.clear()
        self._latest.clear()
        self._revisions.clear()

    def deregister(self, ref: str) -> TaskDefinition:
        name = arns.resource_name(ref, "task-definition")
        family, _, rev = name.partition(":")
        if not rev.isdigit():
            raise ClientError("Invalid revision number. Number: " + (rev or "(none)"))
        found = self._revision(family, int(rev))
        if found is None:
            raise ClientError("The specified task definition does not exist.")
        inactive = dataclasses.replace(found, status="INACTIVE", deregistered_at=self.clock.now())
        self.docs.put(TASKDEF, taskdef_key(family, int(rev)), inactive, parent=family)
        self._latest.pop(family, None)
        self._revisions.pop((family, int(rev)), None)
        return inactive

    def list_task_definitions(self, family_prefix: str = "", status: str = "ACTIVE") -> list[TaskDefinition]:
        return [d for d in self.docs.list(TASKDEF, TaskDefinition, prefix=family_prefix) if d.status == status]

    def families(self, prefix: str = "", status: str = "ACTIVE") -> list[str]:
        seen: dict[str, None] = {}
        for d in self.docs.list(TASKDEF, TaskDefinition, prefix=prefix):
            if status == "ALL" or d.status == status:
                seen.setdefault(d.family)
        return list(seen)

    # tasks ----------------------------------------------------------------
    def describe_tasks(self, cluster: Cluster, refs: Sequence[str]) -> tuple[list[Task], list[str]]:
        """Tasks by ARN or id in `cluster`; returns (found, missing refs)."""
        wanted = {self._task_arn(cluster, ref): ref for ref in refs}
        found = [
            t for t in self.tasks.get_many(list(wanted)) if t.cluster_arn == cluster.cluster_arn and self._visible(t)
        ]
        missing = [ref for arn, ref in wanted.items() if arn not in {t.task_arn for t in found}]
        return found, missing

    def task(self, cluster: Cluster, ref: str) -> Task:
        found = self.tasks.get(self._task_arn(cluster, ref))
        if found is None or found.cluster_arn != cluster.cluster_arn or not self._visible(found):
            raise InvalidParameter("The referenced task was not found.")
        return found

    def _visible(self, task: Task) -> bool:
        """A stopped task is forgotten an hour after it stopped (the sweep deletes it later)."""
        return task.stopped_at is None or task.stopped_at >= self.clock.now() - STOPPED_TASK_TTL

    @staticmethod
    def _task_arn(cluster: Cluster, ref: str) -> str:
        if ref.startswith("arn:"):
            return ref
        prefix = cluster.cluster_arn.replace(":cluster/", ":task/", 1)
        return f"{prefix}/{ref}"


def validate_task_definition(d: TaskDefinition) -> None:
    """ECS's RegisterTaskDefinition checks, with ECS's ClientException messages."""
    if not d.container_definitions:
        raise ClientError("Container list cannot be empty.")
    for c in d.container_definitions:
        _check_container(c)
    names = [c.name for c in d.container_definitions]
    if len(set(names)) != len(names):
        raise ClientError("Container names must be unique.")
    task_cpu, task_memory = fargate.cpu_units(d.cpu), fargate.memory_mib(d.memory)
    if "FARGATE" in (d.requires_compatibilities or []):
        _check_fargate(d, task_cpu, task_memory)
    _check_container_sizes(d, task_memory)
    if not any(c.essential is not False for c in d.container_definitions):
        raise ClientError("Task definition must have at least one essential container.")
    _check_dependencies(d)
    _check_mount_points(d)


def _check_container(c: ContainerDefinition) -> None:
    if not c.name:
        raise ClientError("Container.name should not be null or empty.")
    if not c.image:
        raise ClientError("Container.image should not be null or empty.")
    if c.memory is not None and c.memory_reservation is not None and c.memory_reservation > c.memory:
        raise ClientError(
            f"Invalid setting for container '{c.name}'. 'memoryReservation' must be less than or equal to 'memory'."
        )


def _check_fargate(d: TaskDefinition, cpu: int | None, memory: int | None) -> None:
    if d.network_mode != "awsvpc":
        raise ClientError("Fargate only supports network mode \u2018awsvpc\u2019.")
    fargate.check_pair(cpu, memory)


def _check_container_sizes(d: TaskDefinition, task_memory: int | None) -> None:
    for c in d.container_definitions:
        if task_memory is None and c.memory is None and c.memory_reservation is None:
            raise ClientError(
                f"Invalid setting for container '{c.name}'. At least one of 'memory' or 'memoryReservation' "
                "must be specified."
            )
        if task_memory is not None and c.memory is not None and c.memory > task_memory:
            raise ClientError(
                f"Invalid setting for container '{c.name}'. Its 'memory' ({c.memory} MiB) is above the "
                f"task's memory ({task_memory} MiB)."
            )


def _check_dependencies(d: TaskDefinition) -> None:
    for c in d.container_definitions:
        for dep in c.depends_on or []:
            target = d.container(dep.container_name)
            if target is None:
                raise ClientError(f"Container '{c.name}' depends on unknown container '{dep.container_name}'.")
            if dep.condition not in dependencies.CONDITIONS:
                raise ClientError(f"Invalid dependency condition '{dep.condition}' for container '{c.name}'.")
            if dep.condition == "HEALTHY" and not target.health_check:
                raise ClientError(
                    f"Container '{c.name}' has a HEALTHY dependency on '{target.name}', which has no healthCheck."
                )
            if dep.condition in ("COMPLETE", "SUCCESS") and target.essential is not False:
                raise ClientError(
                    f"Container '{target.name}' is essential: a {dep.condition} dependency needs a non-essential "
                    "container."
                )
    cycle = dependencies.find_cycle(d.container_definitions)
    if cycle:
        raise ClientError(f"Container dependencies form a cycle: {', '.join(cycle)}.")


def _check_mount_points(d: TaskDefinition) -> None:
    volumes = {str(v.get("name")) for v in d.volumes or []}
    for c in d.container_definitions:
        for point in c.mount_points or []:
            if point.get("sourceVolume") not in volumes:
                raise ClientError(f"Unknown volume '{point.get('sourceVolume')}'.")
            if not str(point.get("containerPath") or "").startswith("/"):
                raise ClientError(f"Invalid containerPath for mount point of container '{c.name}'.")
        _check_health(c)


_HEALTH_RANGES = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "startPeriod": (0, 300)}


def _check_health(c: ContainerDefinition) -> None:
    check = c.health_check
    if not check:
        return
    command = check.get("command") or []
    if not command or command[0] not in ("CMD", "CMD-SHELL", "NONE"):
        raise ClientError(f"Invalid healthCheck command for container '{c.name}': start with CMD or CMD-SHELL.")
    for key, (low, high) in _HEALTH_RANGES.items():
        value = check.get(key)
        if value is not None and not low <= int(value) <= high:
            raise ClientError(f"Invalid healthCheck {key} for container '{c.name}': must be {low}-{high}.")
