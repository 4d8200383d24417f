"""Which IAM action and resource ARNs each wire operation needs (AWS's Service Authorization Reference)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cronbridge import arn as arns
from cronbridge.api.context import RequestContext
from cronbridge.errors import AwsError
from cronbridge.model.ecs import TaskDefinition

Params = Mapping[str, Any]


@dataclass(frozen=True)
class Where:
    """What a resource function may look at: the request's region and account, and a task-definition resolver."""

    region: str
    account: str
    resolve_task_definition: Callable[[str], str | None] = lambda ref: None
    roles_of: Callable[[str], list[str]] = lambda ref: []


Resources = Callable[[Params, Where], list[str]]


@dataclass(frozen=True)
class Need:
    """One permission a call needs: an action on resources, with the condition keys the call sets."""

    action: str
    resources: list[str]
    context: dict[str, str | list[str]] = field(default_factory=dict)


# JSON target prefix -> IAM service prefix
JSON_PREFIXES = {
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "AWSEvents": "events",
    "Logs_20140328": "logs",
    "AmazonSQS": "sqs",
    "GraniteServiceVersion20100801": "cloudwatch",  # metric actions take no resource ARNs: "*"
}
# operations that need no permission at all
# no permission needed: who you are; a session of your own (GetSessionToken); a web identity's role, which its trust
# policy alone decides (the request is unsigned)
FREE = frozenset({"sts:GetCallerIdentity", "sts:GetSessionToken", "sts:AssumeRoleWithWebIdentity"})


def _star(params: Params, where: Where) -> list[str]:
    return ["*"]


# -- ECS ------------------------------------------------------------------------------------------


def _cluster_arn(ref: str | None, where: Where) -> str:
    name = arns.resource_name(ref or "default", "cluster")
    return arns.build("ecs", where.region, where.account, f"cluster/{name}")


def _cluster(params: Params, where: Where) -> list[str]:
    return [_cluster_arn(params.get("cluster"), where)]


def _clusters(params: Params, where: Where) -> list[str]:
    return [_cluster_arn(ref, where) for ref in params.get("clusters") or ["default"]]


def task_definition_arn(ref: str, where: Where) -> str:
    """The revisioned ARN of `family`, `family:rev` or an ARN: a bare family is resolved to its latest revision."""
    resolved = where.resolve_task_definition(ref)
    if resolved is not None:
        return resolved
    name = arns.resource_name(ref, "task-definition")
    return arns.build("ecs", where.region, where.account, f"task-definition/{name}")


def _task_definition(params: Params, where: Where) -> list[str]:
    return [task_definition_arn(str(params.get("taskDefinition", "")), where)]


def _task_arn(ref: str, cluster: str | None, where: Where) -> str:
    if ref.startswith("arn:"):
        return ref
    name = arns.resource_name(cluster or "default", "cluster")
    return arns.build("ecs", where.region, where.account, f"task/{name}/{ref}")


def _tasks(params: Params, where: Where) -> list[str]:
    return [_task_arn(str(ref), params.get("cluster"), where) for ref in params.get("tasks") or []] or ["*"]


def _task(params: Params, where: Where) -> list[str]:
    return [_task_arn(str(params.get("task", "")), params.get("cluster"), where)]


def _resource_arn(key: str) -> Resources:
    def resources(params: Params, where: Where) -> list[str]:
        return [str(params.get(key) or "*")]

    return resources


ECS: dict[str, Resources] = {
    "CreateCluster": _star,
    "ListClusters": _star,
    "DescribeClusters": _clusters,
    "DeleteCluster": _cluster,
    "RegisterTaskDefinition": _star,
    "DescribeTaskDefinition": _star,
    "DeregisterTaskDefinition": _star,
    "ListTaskDefinitions": _star,
    "ListTaskDefinitionFamilies": _star,
    "RunTask": _task_definition,
    "DescribeTasks": _tasks,
    "ListTasks": _star,
    "StopTask": _task,
    "TagResource": _resource_arn("resourceArn"),
    "UntagResource": _resource_arn("resourceArn"),
    "ListTagsForResource": _resource_arn("resourceArn"),
}


def _ecs_context(operation: str, params: Params, where: Where) -> dict[str, str | list[str]]:
    if operation in ("RunTask", "DescribeTasks", "StopTask", "ListTasks"):
        return {"ecs:cluster": _cluster_arn(params.get("cluster"), where)}
    return {}


# -- EventBridge ------------------------------------------------------------------------------------


def rule_arn(name: str, bus: str | None, where: Where) -> str:
    """A rule's ARN: `rule/NAME` on the default bus, `rule/BUS/NAME` on another."""
    if name.startswith("arn:"):
        return name
    bus_name = arns.resource_name(bus or "default", "event-bus")
    path = f"rule/{name}" if bus_name == "default" else f"rule/{bus_name}/{name}"
    return arns.build("events", where.region, where.account, path)


def _rule(key: str) -> Resources:
    def resources(params: Params, where: Where) -> list[str]:
        return [rule_arn(str(params.get(key, "")), params.get("EventBusName"), where)]

    return resources


def bus_arn(name: str | None, where: Where) -> str:
    if name and name.startswith("arn:"):
        return name
    return arns.build("events", where.region, where.account, f"event-bus/{name or 'default'}")


def _bus(key: str) -> Resources:
    return lambda params, where: [bus_arn(params.get(key), where)]


def _entry_buses(params: Params, where: Where) -> list[str]:
    entries = params.get("Entries") or []
    return sorted({bus_arn(e.get("EventBusName"), where) for e in entries if isinstance(e, dict)}) or ["*"]


EVENTS: dict[str, Resources] = {
    "CreateEventBus": _bus("Name"),
    "DescribeEventBus": _bus("Name"),
    "DeleteEventBus": _bus("Name"),
    "ListEventBuses": _star,
    "PutEvents": _entry_buses,
    "TestEventPattern": _star,
    "PutRule": _rule("Name"),
    "DescribeRule": _rule("Name"),
    "DeleteRule": _rule("Name"),
    "EnableRule": _rule("Name"),
    "DisableRule": _rule("Name"),
    "PutTargets": _rule("Rule"),
    "RemoveTargets": _rule("Rule"),
    "ListTargetsByRule": _rule("Rule"),
    "ListRules": _star,
    "ListRuleNamesByTarget": _star,
    "TagResource": _resource_arn("ResourceARN"),
    "UntagResource": _resource_arn("ResourceARN"),
    "ListTagsForResource": _resource_arn("ResourceARN"),
}


# -- CloudWatch Logs ------------------------------------------------------------------------------


def log_stream_arn(group: str, stream: str, where: Where) -> str:
    """`arn:aws:logs:R:A:log-group:G:log-stream:S`; a group-level action names the stream part empty, as AWS."""
    return arns.build("logs", where.region, where.account, f"log-group:{group}:log-stream:{stream}")


def _group_of(params: Params) -> str:
    identifier = str(params.get("logGroupName") or params.get("logGroupIdentifier") or "")
    if identifier.startswith("arn:"):
        resource = arns.parse(identifier)
        identifier = resource.resource.removeprefix("log-group:").removesuffix(":*") if resource else identifier
    return identifier


def _log_group(params: Params, where: Where) -> list[str]:
    return [log_stream_arn(_group_of(params), "", where)]


def _log_stream(params: Params, where: Where) -> list[str]:
    return [log_stream_arn(_group_of(params), str(params.get("logStreamName") or ""), where)]


LOGS: dict[str, Resources] = {
    "CreateLogGroup": _log_group,
    "DeleteLogGroup": _log_group,
    "DescribeLogGroups": _log_group,
    "CreateLogStream": _log_stream,
    "DeleteLogStream": _log_stream,
    "DescribeLogStreams": _log_group,
    "PutLogEvents": _log_stream,
    "GetLogEvents": _log_stream,
    "FilterLogEvents": _log_group,
    "PutRetentionPolicy": _log_group,
    "DeleteRetentionPolicy": _log_group,
    "TagLogGroup": _log_group,
    "UntagLogGroup": _log_group,
    "ListTagsLogGroup": _log_group,
    "TagResource": _resource_arn("resourceArn"),
    "UntagResource": _resource_arn("resourceArn"),
    "ListTagsForResource": _resource_arn("resourceArn"),
}


# -- SQS ------------------------------------------------------------------------------------------


def queue_arn(url_or_name: str, where: Where) -> str:
    """A queue's ARN from its URL (`.../ACCOUNT/NAME`) or its name."""
    parts = url_or_name.rstrip("/").split("/")
    name = parts[-1]
    account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else where.account
    return arns.build("sqs", where.region, account, name)


def _queue(params: Params, where: Where) -> list[str]:
    ref = params.get("QueueUrl") or params.get("QueueName")
    return [queue_arn(str(ref), where)] if ref else ["*"]


SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


# -- IAM and STS ----------------------------------------------------------------------------------


def _iam_path(kind: str, key: str) -> Resources:
    def resources(params: Params, where: Where) -> list[str]:
        name = params.get(key)
        if not name:
            return ["*"]
        return [arns.build("iam", "", where.account, f"{kind}/{name}")]

    return resources


def _policy_arn(params: Params, where: Where) -> list[str]:
    if params.get("PolicyArn"):
        return [str(params["PolicyArn"])]
    if params.get("PolicyName"):
        return [arns.build("iam", "", where.account, f"policy/{params['PolicyName']}")]
    return ["*"]


def _oidc_provider(params: Params, where: Where) -> list[str]:
    if params.get("OpenIDConnectProviderArn"):
        return [str(params["OpenIDConnectProviderArn"])]
    url = str(params.get("Url") or "").removeprefix("https://").rstrip("/")
    return [arns.build("iam", "", where.account, f"oidc-provider/{url}")] if url else ["*"]


def _iam_resources(operation: str) -> Resources:
    if operation == "ListGroupsForUser":
        return _iam_path("user", "UserName")
    if operation == "ListInstanceProfilesForRole":
        return _iam_path("role", "RoleName")
    if "Group" in operation:
        return _iam_path("group", "GroupName")
    if "InstanceProfile" in operation:
        return _iam_path("instance-profile", "InstanceProfileName")
    if "OpenIDConnectProvider" in operation:
        return _oidc_provider
    if "Policy" in operation and "Role" not in operation and "User" not in operation:
        return _policy_arn
    if "Role" in operation or operation == "PassRole":
        return _iam_path("role", "RoleName")
    if "User" in operation or "AccessKey" in operation:
        return _iam_path("user", "UserName")
    return _star


def _sts_resources(operation: str) -> Resources:
    if operation == "AssumeRole":
        return _resource_arn("RoleArn")
    return _star


def _policy_source(params: Params, where: Where) -> list[str]:
    return [str(params.get("PolicySourceArn") or "*")]


# -- EventBridge Scheduler ----------------------------------------------------------------------


def _schedule(params: Params, where: Where) -> list[str]:
    group = params.get("GroupName") or "default"
    return [arns.build("scheduler", where.region, where.account, f"schedule/{group}/{params.get('Name', '')}")]


def _schedule_group(params: Params, where: Where) -> list[str]:
    return [arns.build("scheduler", where.region, where.account, f"schedule-group/{params.get('Name', '')}")]


SCHEDULER: dict[str, Resources] = {
    "CreateSchedule": _schedule,
    "GetSchedule": _schedule,
    "UpdateSchedule": _schedule,
    "DeleteSchedule": _schedule,
    "ListSchedules": _star,
    "CreateScheduleGroup": _schedule_group,
    "GetScheduleGroup": _schedule_group,
    "DeleteScheduleGroup": _schedule_group,
    "ListScheduleGroups": _star,
    "TagResource": _resource_arn("ResourceArn"),
    "UntagResource": _resource_arn("ResourceArn"),
    "ListTagsForResource": _resource_arn("ResourceArn"),
}

SERVICES: dict[str, dict[str, Resources]] = {"ecs": ECS, "events": EVENTS, "logs": LOGS, "scheduler": SCHEDULER}


def needs(service: str, operation: str, params: Params, where: Where) -> list[Need]:
    """The permissions one call needs; [] when it needs none (sts:GetCallerIdentity)."""
    action = f"{service}:{SQS_ACTIONS.get(operation, operation) if service == 'sqs' else operation}"
    if action in FREE:
        return []
    context: dict[str, str | list[str]] = {}
    if service == "ecs":
        context = _ecs_context(operation, params, where)
    if service == "iam" and params.get("PermissionsBoundary"):
        context = {"iam:PermissionsBoundary": str(params["PermissionsBoundary"])}
    table = SERVICES.get(service)
    if table is not None:
        resources = table.get(operation, _star)(params, where)
    elif service == "sqs":
        resources = _queue(params, where)
    elif service == "iam":
        resources = (_policy_source if operation == "SimulatePrincipalPolicy" else _iam_resources(operation))(
            params, where
        )
    elif service == "sts":
        resources = _sts_resources(operation)(params, where)
    else:  # scheduler and anything newer: the action on every resource until mapped
        resources = ["*"]
    return [Need(action, resources, context)] + _extra_needs(service, operation, params, where)


def _extra_needs(service: str, operation: str, params: Params, where: Where) -> list[Need]:
    """Calls that hand a role to a service need iam:PassRole on it: a rule's targets (to EventBridge), a schedule's
    target (to Scheduler), RunTask's task roles (to ECS, which also needs ecs:TagResource for what it tags)."""
    if service == "events" and operation == "PutTargets":
        roles = [str(t["RoleArn"]) for t in params.get("Targets") or [] if isinstance(t, Mapping) and t.get("RoleArn")]
        return _passes(roles, "events.amazonaws.com")
    if service == "scheduler" and operation in ("CreateSchedule", "UpdateSchedule"):
        target = params.get("Target") or {}
        return _passes(
            [str(target["RoleArn"])] if isinstance(target, Mapping) and target.get("RoleArn") else [],
            "scheduler.amazonaws.com",
        )
    if service != "ecs" or operation != "RunTask":
        return []
    found = pass_role_needs(params, where)
    if params.get("tags") or params.get("propagateTags"):
        keys = [str(t.get("key")) for t in params.get("tags") or [] if isinstance(t, Mapping)]
        cluster = arns.resource_name(params.get("cluster") or "default", "cluster")
        task = arns.build("ecs", where.region, where.account, f"task/{cluster}/*")
        found.append(Need("ecs:TagResource", [task], {"ecs:CreateAction": "RunTask", "aws:TagKeys": keys}))
    return found


def _passes(roles: list[str], to_service: str) -> list[Need]:
    return [Need("iam:PassRole", [role], {"iam:PassedToService": to_service}) for role in dict.fromkeys(roles)]


def pass_role_needs(params: Params, where: Where) -> list[Need]:
    """The task definition's roles and RunTask's role overrides are passed to ECS tasks: iam:PassRole on each."""
    overrides = params.get("overrides") or {}
    roles = where.roles_of(str(params.get("taskDefinition", "")))
    if isinstance(overrides, Mapping):
        roles += [str(overrides[k]) for k in ("executionRoleArn", "taskRoleArn") if overrides.get(k)]
    return _passes(roles, "ecs-tasks.amazonaws.com")


def where_for(ctx: RequestContext) -> Where:
    """The request's region and account, resolving task definitions through the running system."""
    ecs = ctx.system.ecs

    def definition(ref: str) -> TaskDefinition | None:
        try:
            return ecs.task_definition(ctx.scope, ref)
        except AwsError:
            return None

    def resolve(ref: str) -> str | None:
        found = definition(ref)
        return found.task_definition_arn if found else None

    def roles(ref: str) -> list[str]:
        found = definition(ref)
        return [r for r in (found.execution_role_arn, found.task_role_arn) if r] if found else []

    return Where(ctx.region, ctx.account, resolve, roles)


def authorize_call(ctx: RequestContext, service: str, operation: str, params: Params, query: bool = False) -> None:
    """Authorize one API call as its caller; AWS's refusal when a needed permission is missing.

    `service` is the IAM prefix (ecs, events, logs, sqs, iam, sts, scheduler) or a JSON target prefix.
    """
    authorizer = ctx.system.authorizer
    if not authorizer.enforcing:
        return
    prefix = JSON_PREFIXES.get(service, service)
    wanted = needs(prefix, operation, params, where_for(ctx))
    if not wanted:
        return
    principal = ctx.principal or ctx.principal_arn  # the verified caller, with its session policies
    if principal is None:  # api/auth.py refuses an unsigned request before it gets here; never let one through
        raise denied("Request is missing Authentication Token", query)
    base = _global(ctx)
    for need in wanted:
        refusal = authorizer.first_refusal(principal, need.action, need.resources, {**base, **need.context})
        if refusal is not None:
            raise denied(refusal, query)


def _global(ctx: RequestContext) -> dict[str, str | list[str]]:
    """AWS's global condition keys the request sets."""
    found: dict[str, str | list[str]] = {"aws:RequestedRegion": ctx.region, "aws:SecureTransport": "false"}
    if ctx.source_ip:
        found["aws:SourceIp"] = ctx.source_ip
    return found


def denied(message: str, query: bool = False) -> AwsError:
    """AWS's refusal: AccessDeniedException (JSON services, 400) or IAM's query AccessDenied (403)."""
    if query:
        return AwsError(message, "AccessDenied", 403)
    return AwsError(message, "AccessDeniedException", 400)
