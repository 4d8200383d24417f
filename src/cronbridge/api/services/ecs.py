"""ECS over awsJson1.1 (AmazonEC2ContainerServiceV20141113.*): wire shapes in and out, domain calls in between."""

from __future__ import annotations

import collections
import json
import threading
from typing import Any

from cronbridge import arn as arns
from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.codec import camel, decode, encode, respell
from cronbridge.ecs.runtime.runner import RunTaskRequest
from cronbridge.errors import AwsError, ClientError, ClusterNotFound, InvalidParameter
from cronbridge.model.ecs import Cluster, Tag, Task, TaskDefinition, TaskOverride

MAX_CLIENT_TOKEN = 64
_INTERNAL_TASK_FIELDS = ("launcher", "clientToken", "requestFingerprint", "assignPublicIp")


def task_to_wire(task: Task) -> dict[str, Any]:
    """A task as DescribeTasks shows it, with what ran it in `attributes`."""
    return _shown(encode(task, camel))


def stored_task_to_wire(body: str) -> dict[str, Any]:
    """A stored task (its JSON body) as DescribeTasks shows it, without decoding it into a Task."""
    return _shown(respell(Task, json.loads(body), camel))


def _shown(wire: dict[str, Any]) -> dict[str, Any]:
    launcher = wire.get("launcher")
    for key in _INTERNAL_TASK_FIELDS:
        wire.pop(key, None)
    attributes = [{"name": "cronbridge.launcher", "value": launcher or "unknown"}]
    node = next((c["node"] for c in wire.get("containers", []) if c.get("node")), None)
    if node is not None:  # a Swarm task: the node its containers were placed on
        attributes.append({"name": "cronbridge.node", "value": node})
    for container in wire.get("containers", []):
        limits = container.pop("limitsEnforced", None)
        if limits is not None:
            attributes.append({"name": f"cronbridge.limits.{container['name']}", "value": ",".join(limits) or "none"})
        container.pop("node", None)
    wire["attributes"] = attributes
    return wire


class ShownTasks:
    """The wire form of recently shown tasks, by ARN with the stored body it was made from: a task described again
    unchanged (a client polling DescribeTasks) is not converted again. The dicts are shared: never mutated."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._shown: collections.OrderedDict[str, tuple[str, dict[str, Any]]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def wire(self, arn: str, body: str) -> dict[str, Any]:
        with self._lock:
            found = self._shown.get(arn)
        if found is not None and found[0] == body:
            return found[1]
        wire = stored_task_to_wire(body)
        with self._lock:
            self._shown[arn] = (body, wire)
            self._shown.move_to_end(arn)
            while len(self._shown) > self.size:
                self._shown.popitem(last=False)
        return wire


SHOWN = ShownTasks()


def _taskdef_to_wire(d: TaskDefinition) -> dict[str, Any]:
    wire = encode(d, camel)
    wire.pop("tags", None)
    wire.setdefault("networkMode", "bridge")  # "If no network mode is specified, the default is bridge" (ECS)
    for member in ("volumes", "placementConstraints"):  # ECS answers these lists, empty or not
        wire.setdefault(member, [])
    for volume in wire["volumes"]:  # an EFS volume mounts the file system's root unless told otherwise: ECS shows "/"
        if isinstance(volume.get("efsVolumeConfiguration"), dict):
            volume["efsVolumeConfiguration"].setdefault("rootDirectory", "/")
    for container in wire.get("containerDefinitions", []):
        logging = container.get("logConfiguration")
        if isinstance(logging, dict) and logging.get("options") == {}:  # none given: none shown
            del logging["options"]
        container.setdefault("cpu", 0)
        container.setdefault("essential", True)
        for member in ("portMappings", "environment", "mountPoints", "volumesFrom"):
            container.setdefault(member, [])
    return wire


_CLUSTER_PARTS = {"TAGS": "tags", "SETTINGS": "settings", "CONFIGURATIONS": "configuration"}
DEFAULT_SETTINGS = [{"name": "containerInsights", "value": "disabled"}]


def cluster_to_wire(cluster: Cluster, include: list[str] | None = None) -> dict[str, Any]:
    """A cluster as ECS shows it: tags, settings and configuration only when asked for (`include`, as
    DescribeClusters does); None shows everything set (CreateCluster, UpdateCluster)."""
    wire = encode(cluster, camel)
    wire.setdefault("capacityProviders", [])
    wire.setdefault("defaultCapacityProviderStrategy", [])
    if include is None:
        return wire
    if "SETTINGS" in include:
        wire.setdefault("settings", DEFAULT_SETTINGS)
    for name, key in _CLUSTER_PARTS.items():
        if name not in include:
            wire.pop(key, None)
    return wire


def create_cluster(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = [decode(Tag, t, camel) for t in p.get("tags") or []] or None
    cluster = ctx.system.ecs.create_cluster(
        ctx.scope, p.get("clusterName") or "default", tags, settings=p.get("settings"),
        configuration=p.get("configuration"), service_connect_defaults=p.get("serviceConnectDefaults"),
        capacity_providers=p.get("capacityProviders"),
        default_capacity_provider_strategy=p.get("defaultCapacityProviderStrategy"),
    )
    return {"cluster": cluster_to_wire(cluster)}


def describe_clusters(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ecs = ctx.system.ecs
    clusters: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for ref in p.get("clusters") or ["default"]:
        cluster = ecs.discoverable_cluster(ctx.scope, ref)
        if cluster is None:
            failures.append({"arn": _cluster_arn(ctx, ref), "reason": "MISSING"})
        else:
            clusters.append(cluster_to_wire(ecs.with_counts(cluster), p.get("include") or []))
    return {"clusters": clusters, "failures": failures}


def _cluster_arn(ctx: RequestContext, ref: str) -> str:
    return ref if ref.startswith("arn:") else ctx.scope.arn("ecs", f"cluster/{ref}")


def list_clusters(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arns = [c.cluster_arn for c in ctx.system.ecs.list_clusters(ctx.scope, inactive=True)]
    return _page(arns, p, "clusterArns")


def delete_cluster(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"cluster": cluster_to_wire(ctx.system.ecs.delete_cluster(ctx.scope, p["cluster"]))}


def update_cluster(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    cluster = ctx.system.ecs.update_cluster(
        ctx.scope, p["cluster"], settings=p.get("settings"), configuration=p.get("configuration"),
        service_connect_defaults=p.get("serviceConnectDefaults"),
    )
    return {"cluster": cluster_to_wire(cluster)}


def update_cluster_settings(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"cluster": cluster_to_wire(ctx.system.ecs.update_cluster(ctx.scope, p["cluster"], settings=p["settings"]))}


def put_cluster_capacity_providers(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    cluster = ctx.system.ecs.update_cluster(
        ctx.scope, p["cluster"], capacity_providers=p["capacityProviders"],
        default_capacity_provider_strategy=p["defaultCapacityProviderStrategy"],
    )
    return {"cluster": cluster_to_wire(cluster)}


def register_task_definition(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    definition = decode(TaskDefinition, p, camel)
    registered = ctx.system.ecs.register(ctx.scope, definition)
    return {"taskDefinition": _taskdef_to_wire(registered), "tags": p.get("tags") or []}


def describe_task_definition(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    definition = ctx.system.ecs.task_definition(ctx.scope, p["taskDefinition"])
    out: dict[str, Any] = {"taskDefinition": _taskdef_to_wire(definition)}
    if "TAGS" in (p.get("include") or []):
        out["tags"] = encode(definition.tags or [], camel)
    return out


def deregister_task_definition(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"taskDefinition": _taskdef_to_wire(ctx.system.ecs.deregister(ctx.scope, p["taskDefinition"]))}


def list_task_definitions(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    defs = ctx.system.ecs.list_task_definitions(ctx.scope, p.get("familyPrefix") or "", p.get("status") or "ACTIVE")
    arns = [d.task_definition_arn for d in defs]
    if p.get("sort") == "DESC":
        arns.reverse()
    return _page(arns, p, "taskDefinitionArns")


def list_task_definition_families(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    families = ctx.system.ecs.families(ctx.scope, p.get("familyPrefix") or "", p.get("status") or "ACTIVE")
    return _page(families, p, "families")


# tags -------------------------------------------------------------------------------------------------------------
def _tag_target(ctx: RequestContext, arn: str) -> tuple[str, str]:
    """(kind, name) of a taggable resource of the request's account and Region: a cluster or a task definition."""
    parsed = arns.parse(arn)
    if parsed is None or parsed.service != "ecs":
        raise InvalidParameter("The ARN provided is invalid.")
    kind = parsed.resource.split("/", 1)[0]
    name = ctx.scope.name_in(arn, kind)
    if kind == "cluster" and (name is None or ctx.system.ecs.find_cluster(ctx.scope, name) is None):
        raise ClusterNotFound("The specified cluster is inactive. Specify an active cluster and try again.")
    if kind == "task-definition":
        ctx.system.ecs.task_definition(ctx.scope, arn)
        return kind, arn
    if kind == "service":
        raise AwsError("The specified service could not be found.", "ServiceNotFoundException")
    if kind not in ("cluster", "task"):
        raise InvalidParameter("The ARN provided is invalid.")
    return kind, name or arn


def _current_tags(ctx: RequestContext, kind: str, name: str) -> list[Tag]:
    ecs = ctx.system.ecs
    if kind == "cluster":
        return list(ecs.cluster(ctx.scope, name).tags or [])
    if kind == "task-definition":
        return list(ecs.task_definition(ctx.scope, name).tags or [])
    task = ecs.tasks.get(name)
    if task is None:
        raise InvalidParameter("The referenced task was not found.")
    return list(task.tags or [])


def _set_tags(ctx: RequestContext, kind: str, name: str, tags: list[Tag]) -> None:
    if kind == "cluster":
        ctx.system.ecs.set_cluster_tags(ctx.scope, name, tags)
    elif kind == "task-definition":
        ctx.system.ecs.set_definition_tags(ctx.scope, name, tags)
    else:
        ctx.system.runner.set_task_tags(name, tags)


def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    kind, name = _tag_target(ctx, p["resourceArn"])
    given = [decode(Tag, t, camel) for t in p["tags"]]
    keys = {t.key for t in given}
    _set_tags(ctx, kind, name, [t for t in _current_tags(ctx, kind, name) if t.key not in keys] + given)
    return {}


def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    kind, name = _tag_target(ctx, p["resourceArn"])
    gone = set(p["tagKeys"])
    _set_tags(ctx, kind, name, [t for t in _current_tags(ctx, kind, name) if t.key not in gone])
    return {}


def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    kind, name = _tag_target(ctx, p["resourceArn"])
    return {"tags": encode(_current_tags(ctx, kind, name), camel)}


def run_task(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    result = ctx.system.runner.run_task(run_task_request(ctx, p))
    return {
        "tasks": [task_to_wire(t) for t in result.tasks],
        "failures": [encode(f, camel) for f in result.failures],
    }


def _client_token(token: str | None) -> str | None:
    """RunTask's clientToken as ECS takes it: up to 64 characters, each in the range 33-126."""
    if token is not None and not (0 < len(token) <= MAX_CLIENT_TOKEN and all(33 <= ord(c) <= 126 for c in token)):
        raise InvalidParameter(
            f"clientToken must be 1 to {MAX_CLIENT_TOKEN} characters long, each in the range 33-126 (printable ASCII)."
        )
    return token


def run_task_request(ctx: RequestContext, p: dict[str, Any]) -> RunTaskRequest:
    network = p.get("networkConfiguration")
    vpc = (network or {}).get("awsvpcConfiguration")
    return RunTaskRequest(
        region=ctx.region,
        account=ctx.account,
        task_definition=p["taskDefinition"],
        capacity_provider_strategy=p.get("capacityProviderStrategy"),
        cluster=p.get("cluster") or "default",
        count=p.get("count", 1),
        launch_type=p.get("launchType"),
        platform_version=p.get("platformVersion"),
        network_configuration={"awsvpc_configuration": _snake_vpc(vpc)} if vpc else None,
        overrides=decode(TaskOverride, p["overrides"], camel) if p.get("overrides") else None,
        started_by=p.get("startedBy"),
        group=p.get("group"),
        client_token=_client_token(p.get("clientToken")),
        enable_execute_command=bool(p.get("enableExecuteCommand")),
        tags=[decode(Tag, t, camel) for t in p.get("tags") or []] or None,
        propagate_tags=p.get("propagateTags"),
        placement_constraints=p.get("placementConstraints"),
    )


def _snake_vpc(vpc: dict[str, Any]) -> dict[str, Any]:
    return {
        "subnets": vpc.get("subnets") or [],
        "security_groups": vpc.get("securityGroups") or [],
        "assign_public_ip": vpc.get("assignPublicIp") or "DISABLED",
    }


def describe_tasks(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ecs = ctx.system.ecs
    cluster = ecs.cluster(ctx.scope, p.get("cluster"))
    refs = p["tasks"]
    if not refs:
        raise InvalidParameter("Tasks cannot be empty.")
    if len(refs) > 100:
        raise InvalidParameter("Tasks cannot be longer than 100.")
    found, missing = ecs.describe_tasks(cluster, refs)
    return {
        "tasks": [SHOWN.wire(arn, body) for arn, body in found],
        "failures": [{"arn": ref, "reason": "MISSING"} for ref in missing],
    }


def list_tasks(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ecs = ctx.system.ecs
    cluster = ecs.cluster(ctx.scope, p.get("cluster"))
    limit = min(int(p.get("maxResults") or 100), 100)
    after = _token(p.get("nextToken"))
    desired = p.get("desiredStatus") or "RUNNING"
    arns = ecs.tasks.list_arns(
        cluster.cluster_arn, family=p.get("family"), started_by=p.get("startedBy"),
        desired_status=desired, after=after, limit=limit + 1,
    )
    out: dict[str, Any] = {"taskArns": arns[:limit]}
    if len(arns) > limit:
        out["nextToken"] = arns[limit - 1]
    return out


def stop_task(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    task = ctx.system.runner.stop_task(ctx.scope, p.get("cluster"), p["task"], p.get("reason"))
    return {"task": task_to_wire(task)}


def _token(token: str | None) -> str:
    return token or ""


def _page(items: list[str], p: dict[str, Any], key: str) -> dict[str, Any]:
    limit = int(p.get("maxResults") or 100)
    start = 0
    if p.get("nextToken"):
        try:
            start = int(p["nextToken"])
        except ValueError as exc:
            raise ClientError("Invalid nextToken.") from exc
    out: dict[str, Any] = {key: items[start:start + limit]}
    if start + limit < len(items):
        out["nextToken"] = str(start + limit)
    return out


SERVICE = JsonService(
    target_prefix="AmazonEC2ContainerServiceV20141113",
    model="ecs",
    validation_code="InvalidParameterException",
    operations={
        "CreateCluster": create_cluster,
        "DescribeClusters": describe_clusters,
        "ListClusters": list_clusters,
        "DeleteCluster": delete_cluster,
        "UpdateCluster": update_cluster,
        "UpdateClusterSettings": update_cluster_settings,
        "PutClusterCapacityProviders": put_cluster_capacity_providers,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
        "RegisterTaskDefinition": register_task_definition,
        "DescribeTaskDefinition": describe_task_definition,
        "DeregisterTaskDefinition": deregister_task_definition,
        "ListTaskDefinitions": list_task_definitions,
        "ListTaskDefinitionFamilies": list_task_definition_families,
        "RunTask": run_task,
        "DescribeTasks": describe_tasks,
        "ListTasks": list_tasks,
        "StopTask": stop_task,
    },
)
