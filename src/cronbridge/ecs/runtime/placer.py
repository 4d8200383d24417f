"""Where RunTask places a task that has placementConstraints: its constraints checked, the launcher's container
instances, the group's active tasks on each (distinctInstance), the choice made by ecs/placing.py."""

from __future__ import annotations

import re

from cronbridge import arn as arns
from cronbridge.ecs import placing
from cronbridge.ecs.runtime.requests import Failure, RunTaskRequest
from cronbridge.errors import AwsError, LaunchError
from cronbridge.launchers.base import Instance, Launcher
from cronbridge.model.ecs import Task, TaskDefinition
from cronbridge.store.tasks import TaskStore

_NODE_ID = re.compile(r"\(([^()]+)\)$")  # a container's node as shown: `hostname (node id)`


class Placer:
    """Places RunTask's tasks on the launcher's container instances (only for a task with placementConstraints:
    any other goes wherever the launcher puts it)."""

    def __init__(self, launcher: Launcher, tasks: TaskStore) -> None:
        self.launcher = launcher
        self.tasks = tasks

    def place(self, req: RunTaskRequest, cluster_arn: str, definition: TaskDefinition) -> placing.Placement | None:
        """The instance of each task that can be placed and ECS's failures for the others; None without
        constraints. Raises the constraints' ClientException / InvalidParameterException."""
        constraints = placing.run_constraints(
            req.placement_constraints or [], placing.definition_constraints(definition.placement_constraints or [])
        )
        if not constraints:
            return None
        instances = self._instances()
        group = req.group or f"family:{definition.family}"
        distinct = any(c.kind == placing.DISTINCT_INSTANCE for c in constraints)
        busy = self._busy(cluster_arn, group, instances) if distinct else {}
        return placing.place(constraints, instances, req.count, busy, group)

    def _instances(self) -> list[Instance]:
        try:
            return self.launcher.instances()
        except LaunchError as exc:
            raise AwsError(f"cannot place the task: {exc}", "ServerException", 500) from exc

    def _busy(self, cluster_arn: str, group: str, instances: list[Instance]) -> dict[str, int]:
        """Active tasks of the group per instance: where RunTask placed them; on a launcher of one instance, there."""
        only = instances[0].id if len(instances) == 1 else None
        busy: dict[str, int] = {}
        for task in self.tasks.active(cluster_arn):
            where = instance_id(task) or only
            if task.group == group and where is not None:
                busy[where] = busy.get(where, 0) + 1
        return busy


def instance_id(task: Task) -> str | None:
    """The container instance a task runs on: where RunTask placed it, else the node its containers went to."""
    if task.container_instance_arn:
        return task.container_instance_arn.rsplit("/", 1)[-1]
    for container in task.containers:
        found = _NODE_ID.search(container.node or "")
        if found:
            return found.group(1)
    return None


def instance_arn(req: RunTaskRequest, cluster_arn: str, instance: str) -> str:
    """A container instance's ARN in the request's account and Region: `container-instance/<cluster>/<id>`."""
    cluster = cluster_arn.rsplit("/", 1)[-1]
    return arns.build("ecs", req.region, req.account, f"container-instance/{cluster}/{instance}")


def failures(req: RunTaskRequest, cluster_arn: str, placement: placing.Placement) -> list[Failure]:
    """RunTask's failures[] for the tasks that could not be placed: one per container instance and reason."""
    return [Failure(instance_arn(req, cluster_arn, f.instance_id), f.reason, f.detail) for f in placement.failures]
