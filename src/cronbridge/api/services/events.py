"""EventBridge over awsJson1.1 (AWSEvents.*): rules and targets on the default bus."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.codec import decode, encode, pascal
from cronbridge.errors import NotFound
from cronbridge.model.events import Rule, Target

_INTERNAL = ("CreatedAt", "ScheduleSetAt", "EnabledAt", "Tags")


def rule_to_wire(rule: Rule) -> dict[str, Any]:
    wire = encode(rule, pascal)
    for key in _INTERNAL:
        wire.pop(key, None)
    return wire


def put_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    rule = Rule(
        name=p["Name"], schedule_expression=p.get("ScheduleExpression"), event_pattern=p.get("EventPattern"),
        state=p.get("State") or "ENABLED", description=p.get("Description"), role_arn=p.get("RoleArn"),
        event_bus_name=p.get("EventBusName") or "default", tags=p.get("Tags"),
    )
    return {"RuleArn": ctx.system.events.put_rule(ctx.region, ctx.account, rule).arn}


def describe_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return rule_to_wire(ctx.system.events.rule(p["Name"]))


def list_rules(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = int(p.get("Limit") or 100)
    rules = ctx.system.events.list_rules(p.get("NamePrefix") or "", p.get("NextToken") or "", limit + 1)
    out: dict[str, Any] = {"Rules": [rule_to_wire(r) for r in rules[:limit]]}
    if len(rules) > limit:
        out["NextToken"] = rules[limit - 1].name
    return out


def delete_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.events.delete_rule(p["Name"], bool(p.get("Force")))
    return {}


def enable_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.events.set_state(p["Name"], True)
    return {}


def disable_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.events.set_state(p["Name"], False)
    return {}


def put_targets(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    targets = [decode(Target, t, pascal) for t in p["Targets"]]
    failed = ctx.system.events.put_targets(p["Rule"], targets)
    return _failures(failed)


def _failures(failed: list[tuple[str, str, str]]) -> dict[str, Any]:
    entries = [{"TargetId": i, "ErrorCode": c, "ErrorMessage": m} for i, c, m in failed]
    return {"FailedEntryCount": len(entries), "FailedEntries": entries}


def list_targets_by_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    targets = ctx.system.events.targets(p["Rule"]) if _exists(ctx, p["Rule"]) else []
    return {"Targets": [encode(t, pascal) for t in targets]}


def _exists(ctx: RequestContext, name: str) -> bool:
    ctx.system.events.rule(name)
    return True


def remove_targets(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _failures(ctx.system.events.remove_targets(p["Rule"], p["Ids"]))


def list_rule_names_by_target(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"RuleNames": ctx.system.events.rule_names_by_target(p["TargetArn"])}


def _rule_name(arn: str) -> str:
    if ":rule/" not in arn:
        raise NotFound(f"Rule {arn} does not exist on EventBus default.")
    return arn.rsplit("/", 1)[-1]


def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    events = ctx.system.events
    rule = events.rule(_rule_name(p["ResourceARN"]))
    tags = {t["Key"]: t["Value"] for t in rule.tags or []}
    tags.update({t["Key"]: t["Value"] for t in p["Tags"]})
    events.set_tags(rule.name, [{"Key": k, "Value": v} for k, v in tags.items()])
    return {}


def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    events = ctx.system.events
    rule = events.rule(_rule_name(p["ResourceARN"]))
    events.set_tags(rule.name, [t for t in rule.tags or [] if t["Key"] not in set(p["TagKeys"])])
    return {}


def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": ctx.system.events.rule(_rule_name(p["ResourceARN"])).tags or []}


SERVICE = JsonService(
    target_prefix="AWSEvents",
    model="events",
    validation_code="ValidationException",
    operations={
        "PutRule": put_rule,
        "DescribeRule": describe_rule,
        "ListRules": list_rules,
        "DeleteRule": delete_rule,
        "EnableRule": enable_rule,
        "DisableRule": disable_rule,
        "PutTargets": put_targets,
        "ListTargetsByRule": list_targets_by_rule,
        "RemoveTargets": remove_targets,
        "ListRuleNamesByTarget": list_rule_names_by_target,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    },
)
