"""ECS over awsJson1.1 (AmazonEC2ContainerServiceV20141113.*): wire shapes in and out, domain calls in between."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.codec import camel, decode, encode
from cronbridge.errors import ClientError, InvalidParameter
from cronbridge.model.ecs import Tag, Task, TaskDefinition, TaskOverride
from cronbridge.runner import RunTaskRequest

_INTERNAL_TASK_FIELDS = ("launcher", "clientToken", "requestFingerprint", "assignPublicIp")


def task_to_wire(task: Task) -> dict[str, Any]:
    """A task as DescribeTasks shows it, with what ran it in `attributes`."""
    wire = encode(task, camel)
    for key in _INTERNAL_TASK_FIELDS:
        wire.pop(key, None)
    attributes = [{"name": "cronbridge.launcher", "value": task.launcher or "unknown"}]
    for container in wire.get("containers", []):
        limits = container.pop("limitsEnforced", None)
        if limits is not None:
            attributes.append({"name": f"cronbridge.limits.{container['name']}", "value": ",".join(limits) or "none"})
    wire["attributes"] = attributes
    return wire


def _taskdef_to_wire(d: TaskDefinition) -> dict[str, Any]:
    wire = encode(d, camel)
    wire.pop("tags", None)
    return wire


def create_cluster(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = [decode(Tag, t, camel) for t in p.get("tags") or []] or None
    cluster = ctx.system.ecs.create_cluster(ctx.region, ctx.account, p.get("clusterName") or "default", tags)
    return {"cluster": encode(cluster, camel)}


def describe_clusters(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ecs = ctx.system.ecs
    clusters: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for ref in p.get("clusters") or ["default"]:
        cluster = ecs.find_cluster(ref)
        if cluster is None:
            failures.append({"arn": _cluster_arn(ctx, ref), "reason": "MISSING"})
        else:
            clusters.append(encode(ecs.with_counts(cluster), camel))
    return {"clusters": clusters, "failures": failures}


def _cluster_arn(ctx: RequestContext, ref: str) -> str:
    return ref if ref.startswith("arn:") else f"arn:aws:ecs:{ctx.region}:{ctx.account}:cluster/{ref}"


def list_clusters(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arns = [c.cluster_arn for c in ctx.system.ecs.list_clusters()]
    return _page(arns, p, "clusterArns")


def delete_cluster(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"cluster": encode(ctx.system.ecs.delete_cluster(p["cluster"]), camel)}


def register_task_definition(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    definition = decode(TaskDefinition, p, camel)
    registered = ctx.system.ecs.register(ctx.region, ctx.account, definition)
    return {"taskDefinition": _taskdef_to_wire(registered), "tags": p.get("tags") or []}


def describe_task_definition(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    definition = ctx.system.ecs.task_definition(p["taskDefinition"])
    out: dict[str, Any] = {"taskDefinition": _taskdef_to_wire(definition)}
    if "TAGS" in (p.get("include") or []):
        out["tags"] = encode(definition.tags or [], camel)
    return out


def deregister_task_definition(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"taskDefinition": _taskdef_to_wire(ctx.system.ecs.deregister(p["taskDefinition"]))}


def list_task_definitions(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    defs = ctx.system.ecs.list_task_definitions(p.get("familyPrefix") or "", p.get("status") or "ACTIVE")
    arns = [d.task_definition_arn for d in defs]
    if p.get("sort") == "DESC":
        arns.reverse()
    return _page(arns, p, "taskDefinitionArns")


def list_task_definition_families(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    families = ctx.system.ecs.families(p.get("familyPrefix") or "", p.get("status") or "ACTIVE")
    return _page(families, p, "families")


def run_task(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    result = ctx.system.runner.run_task(run_task_request(ctx, p))
    return {
        "tasks": [task_to_wire(t) for t in result.tasks],
        "failures": [encode(f, camel) for f in result.failures],
    }


def run_task_request(ctx: RequestContext, p: dict[str, Any]) -> RunTaskRequest:
    network = p.get("networkConfiguration")
    vpc = (network or {}).get("awsvpcConfiguration")
    return RunTaskRequest(
        region=ctx.region,
        account=ctx.account,
        task_definition=p["taskDefinition"],
        cluster=p.get("cluster") or "default",
        count=p.get("count", 1),
        launch_type=p.get("launchType"),
        platform_version=p.get("platformVersion"),
        network_configuration={"awsvpc_configuration": _snake_vpc(vpc)} if vpc else None,
        overrides=decode(TaskOverride, p["overrides"], camel) if p.get("overrides") else None,
        started_by=p.get("startedBy"),
        group=p.get("group"),
        client_token=p.get("clientToken"),
        enable_execute_command=bool(p.get("enableExecuteCommand")),
        tags=[decode(Tag, t, camel) for t in p.get("tags") or []] or None,
        propagate_tags=p.get("propagateTags"),
    )


def _snake_vpc(vpc: dict[str, Any]) -> dict[str, Any]:
    return {
        "subnets": vpc.get("subnets") or [],
        "security_groups": vpc.get("securityGroups") or [],
        "assign_public_ip": vpc.get("assignPublicIp") or "DISABLED",
    }


def describe_tasks(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ecs = ctx.system.ecs
    cluster = ecs.cluster(p.get("cluster"))
    refs = p["tasks"]
    if len(refs) > 100:
        raise InvalidParameter("Tasks cannot be longer than 100.")
    found, missing = ecs.describe_tasks(cluster, refs)
    return {
        "tasks": [task_to_wire(t) for t in found],
        "failures": [{"arn": ref, "reason": "MISSING"} for ref in missing],
    }


def list_tasks(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ecs = ctx.system.ecs
    cluster = ecs.cluster(p.get("cluster"))
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
    task = ctx.system.runner.stop_task(p.get("cluster"), p["task"], p.get("reason"))
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
