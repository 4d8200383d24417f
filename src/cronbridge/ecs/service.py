"""Clusters, task definitions (validated and revisioned as ECS does) and the task registry."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from cronbridge import arn as arns
from cronbridge import scope as scopes
from cronbridge.clock import Clock
from cronbridge.ecs import dependencies, fargate, placing
from cronbridge.errors import ClientError, ClusterNotFound, InvalidParameter
from cronbridge.model.ecs import Cluster, ContainerDefinition, Tag, Task, TaskDefinition
from cronbridge.scope import Scope
from cronbridge.store.database import Database
from cronbridge.store.documents import Documents
from cronbridge.store.tasks import TaskStore

STOPPED_TASK_TTL = 3600.0  # stopped tasks stay visible for an hour, as on ECS
CLUSTER = "ecs.cluster"
TASKDEF = "ecs.taskdef"


V = TypeVar("V")


def taskdef_key(family: str, revision: int) -> str:
    return f"{family}:{revision:08d}"


class ReadCache(Generic[V]):
    """A read cache shared by request threads: a value read before a change is never kept after it."""

    def __init__(self) -> None:
        self._data: dict[Hashable, V] = {}
        self._epoch = 0  # moves on with every drop
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        with self._lock:
            if key in self._data:
                return self._data[key]
            epoch = self._epoch
        value = load()
        with self._lock:
            if epoch == self._epoch:
                self._data[key] = value
        return value

    def drop(self, key: Hashable | None = None) -> None:
        """Forget one key, or with none, everything."""
        with self._lock:
            self._epoch += 1
            if key is None:
                self._data.clear()
            else:
                self._data.pop(key, None)


class EcsService:
    """ECS's control plane state, kept apart per account and Region; the runner starts and follows tasks. Clusters
and task definitions are cached;
`changed` announces each change to them (other server processes then drop their caches: peers/caches.py)."""

    def __init__(self, db: Database, docs: Documents, clock: Clock, changed: Callable[[], None]) -> None:
        self.db = db
        self.docs = docs
        self.clock = clock
        self.changed = changed
        self.tasks = TaskStore(db)
        self._clusters: ReadCache[Cluster | None] = ReadCache()
        self._latest: ReadCache[TaskDefinition | None] = ReadCache()
        self._revisions: ReadCache[TaskDefinition | None] = ReadCache()

    # clusters -------------------------------------------------------------
    def create_cluster(self, scope: Scope, name: str, tags: list[Tag] | None = None, **fields: Any) -> Cluster:
        """A new cluster; the active one of that name when it exists (CreateCluster is idempotent on ECS)."""
        existing = self.docs.get(CLUSTER, scope, name, Cluster)
        if existing is not None and existing.status == "ACTIVE":
            return existing
        cluster = Cluster(cluster_arn=scope.arn("ecs", f"cluster/{name}"), cluster_name=name, tags=tags, **fields)
        self._save_cluster(scope, cluster)
        return cluster

    def _save_cluster(self, scope: Scope, cluster: Cluster) -> None:
        self.docs.put(CLUSTER, scope, cluster.cluster_name, cluster)
        self._clusters.drop((scope, cluster.cluster_name))
        self.changed()

    def find_cluster(self, scope: Scope, name_or_arn: str | None) -> Cluster | None:
        cluster = self.discoverable_cluster(scope, name_or_arn)
        return cluster if cluster is not None and cluster.status == "ACTIVE" else None

    def discoverable_cluster(self, scope: Scope, name_or_arn: str | None) -> Cluster | None:
        """The cluster a name or ARN names, ACTIVE or deleted (INACTIVE: still discoverable, as on ECS)."""
        name = scope.name_in(name_or_arn or "default", "cluster")
        if name is None:
            return None
        return self._clusters.get((scope, name), lambda: self.docs.get(CLUSTER, scope, name, Cluster))

    def cluster(self, scope: Scope, name_or_arn: str | None) -> Cluster:
        cluster = self.find_cluster(scope, name_or_arn)
        if cluster is None:
            raise ClusterNotFound("Cluster not found.")
        return cluster

    def cluster_of_arn(self, cluster_arn: str) -> Cluster | None:
        """The active cluster an ARN names, in the account and Region of the ARN."""
        scope = scopes.of_arn(cluster_arn)
        return None if scope is None else self.find_cluster(scope, cluster_arn)

    def update_cluster(self, scope: Scope, name_or_arn: str, **fields: Any) -> Cluster:
        """UpdateCluster / UpdateClusterSettings: the given fields replaced (None leaves one as it was)."""
        cluster = self.cluster(scope, name_or_arn)
        changed = dataclasses.replace(cluster, **{k: v for k, v in fields.items() if v is not None})
        self._save_cluster(scope, changed)
        return changed

    def set_cluster_tags(self, scope: Scope, name_or_arn: str, tags: list[Tag]) -> None:
        cluster = self.cluster(scope, name_or_arn)
        self._save_cluster(scope, dataclasses.replace(cluster, tags=tags or None))

    def with_counts(self, cluster: Cluster) -> Cluster:
        return dataclasses.replace(cluster, running_tasks_count=self.tasks.count_active(cluster.cluster_arn))

    def list_clusters(self, scope: Scope, inactive: bool = False) -> list[Cluster]:
        """The ACTIVE clusters; with `inactive`, deleted ones too (ListClusters shows them, as ECS does)."""
        return [c for c in self.docs.list(CLUSTER, Cluster, scope) if inactive or c.status == "ACTIVE"]

    def delete_cluster(self, scope: Scope, name_or_arn: str) -> Cluster:
        """The cluster becomes INACTIVE: kept, and discoverable (ListClusters, DescribeClusters), but unusable; its
        tags go with it. CreateCluster of its name makes a new ACTIVE cluster."""
        cluster = self.cluster(scope, name_or_arn)
        if self.tasks.count_active(cluster.cluster_arn):
            raise ClientError("The Cluster cannot be deleted while Tasks are active.", "ClusterContainsTasksException")
        inactive = dataclasses.replace(cluster, status="INACTIVE", tags=None)
        self._save_cluster(scope, inactive)
        return dataclasses.replace(cluster, status="INACTIVE")

    # task definitions -----------------------------------------------------
    def register(self, scope: Scope, definition: TaskDefinition) -> TaskDefinition:
        validate_task_definition(definition)
        revision = self.docs.next_value(f"{TASKDEF}:{scope.account}:{scope.region}:{definition.family}")
        resource = f"task-definition/{definition.family}:{revision}"
        compat = ["EC2", "FARGATE"] if definition.network_mode == "awsvpc" else ["EC2"]  # no mode: bridge
        registered = dataclasses.replace(
            definition,
            revision=revision,
            task_definition_arn=scope.arn("ecs", resource),
            status="ACTIVE",
            compatibilities=compat,
            registered_at=self.clock.now(),
            registered_by=arns.build("iam", "", scope.account, "root"),
        )
        self._save_definition(scope, registered)
        return registered

    def _save_definition(self, scope: Scope, definition: TaskDefinition) -> None:
        family, revision = definition.family, definition.revision
        self.docs.put(TASKDEF, scope, taskdef_key(family, revision), definition, parent=family)
        self._latest.drop((scope, family))
        self._revisions.drop((scope, family, revision))
        self.changed()

    def task_definition(self, scope: Scope, ref: str, active_only: bool = False) -> TaskDefinition:
        """Resolve `family`, `family:rev` or an ARN; a bare family means its latest ACTIVE revision."""
        name = scope.name_in(ref, "task-definition")
        found = None
        if name is not None:
            family, _, rev = name.partition(":")
            found = self._revision(scope, family, int(rev)) if rev.isdigit() else self._latest_active(scope, family)
        if found is None or (active_only and found.status != "ACTIVE"):
            raise ClientError("Unable to describe task definition.")
        return found

    def task_definition_of_arn(self, arn: str) -> TaskDefinition | None:
        """The task definition an ARN names, in the account and Region of the ARN."""
        scope = scopes.of_arn(arn)
        if scope is None:
            return None
        try:
            return self.task_definition(scope, arn)
        except ClientError:
            return None

    def _revision(self, scope: Scope, family: str, revision: int) -> TaskDefinition | None:
        return self._revisions.get(
            (scope, family, revision),
            lambda: self.docs.get(TASKDEF, scope, taskdef_key(family, revision), TaskDefinition),
        )

    def _latest_active(self, scope: Scope, family: str) -> TaskDefinition | None:
        return self._latest.get((scope, family), lambda: self._load_latest(scope, family))

    def _load_latest(self, scope: Scope, family: str) -> TaskDefinition | None:
        active = [d for d in self.docs.list(TASKDEF, TaskDefinition, scope, parent=family) if d.status == "ACTIVE"]
        return active[-1] if active else None

    def forget_cached(self) -> None:
        """Drop the read caches (another process changed clusters or task definitions, or a reset wiped them)."""
        self._clusters.drop()
        self._latest.drop()
        self._revisions.drop()

    def deregister(self, scope: Scope, ref: str) -> TaskDefinition:
        name = scope.name_in(ref, "task-definition") or ""
        family, _, rev = name.partition(":")
        if not rev:
            raise ClientError("Revision is missing.")
        if not rev.isdigit():
            raise ClientError(f"Invalid revision number. Number: {rev}")
        found = self._revision(scope, family, int(rev))
        if found is None:
            raise ClientError("Unable to describe task definition.")  # as DescribeTaskDefinition words it
        inactive = dataclasses.replace(found, status="INACTIVE", deregistered_at=self.clock.now())
        self._save_definition(scope, inactive)
        return inactive

    def set_definition_tags(self, scope: Scope, ref: str, tags: list[Tag]) -> None:
        found = self.task_definition(scope, ref)
        self._save_definition(scope, dataclasses.replace(found, tags=tags or None))

    def list_task_definitions(self, scope: Scope, family: str = "", status: str = "ACTIVE") -> list[TaskDefinition]:
        """Revisions in (family, revision) order; `family` is the exact family (ListTaskDefinitions' familyPrefix
        is matched whole on ECS, despite its name)."""
        found = self.docs.list(TASKDEF, TaskDefinition, scope, parent=family) if family else self.docs.list(
            TASKDEF, TaskDefinition, scope
        )
        found.sort(key=lambda d: (d.family, d.revision))  # keys sort "a-b:" before "a:"; families sort by name
        return [d for d in found if status == "ALL" or d.status == status]

    def families(self, scope: Scope, prefix: str = "", status: str = "ACTIVE") -> list[str]:
        seen: set[str] = set()
        for d in self.docs.list(TASKDEF, TaskDefinition, scope, prefix=prefix):
            if status == "ALL" or d.status == status:
                seen.add(d.family)
        return sorted(seen)

    # tasks ----------------------------------------------------------------
    def describe_tasks(self, cluster: Cluster, refs: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
        """Tasks by ARN or id in `cluster` as stored: ([(arn, JSON body)], missing refs)."""
        wanted = {self._task_arn(cluster, ref): ref for ref in refs}
        oldest = self.clock.now() - STOPPED_TASK_TTL  # a stopped task is forgotten an hour after it stopped
        found = [
            (arn, body)
            for arn, cluster_arn, stopped_at, body in self.tasks.bodies(list(wanted))
            if cluster_arn == cluster.cluster_arn and (stopped_at is None or stopped_at >= oldest)
        ]
        seen = {arn for arn, _ in found}
        return found, [ref for arn, ref in wanted.items() if arn not in seen]

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
    placing.definition_constraints(d.placement_constraints or [])


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
    """What RegisterTaskDefinition refuses for a FARGATE-compatible definition, with ECS's messages."""
    if d.network_mode != "awsvpc":
        raise ClientError("Fargate only supports network mode \u2018awsvpc\u2019.")
    if d.pid_mode == "host":
        raise ClientError(
            "Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is "
            "'task'."
        )
    if d.ipc_mode is not None:
        raise ClientError("Tasks using the Fargate launch type do not support ipcMode.")
    fargate.check_pair(cpu, memory)
    uses_awslogs = any(
        c.log_configuration is not None and c.log_configuration.log_driver == "awslogs" for c in d.container_definitions
    )
    if uses_awslogs and not d.execution_role_arn:
        raise ClientError("Fargate requires task definition to have execution role ARN to support log driver awslogs.")


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
