"""EventBridge over awsJson1.1 (AWSEvents.*): event buses, rules and targets on them, PutEvents, TestEventPattern."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.codec import decode, encode, pascal
from cronbridge.errors import NotFound
from cronbridge.events.envelopes import Entry
from cronbridge.events.service import bus_name
from cronbridge.model.events import EventBus, Rule, Target

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
    return {"RuleArn": ctx.system.events.put_rule(ctx.scope, rule).arn}


def _bus(p: dict[str, Any]) -> str:
    return bus_name(p.get("EventBusName"))


def describe_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return rule_to_wire(ctx.system.events.rule(ctx.scope, p["Name"], _bus(p)))


def list_rules(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = int(p.get("Limit") or 100)
    rules = ctx.system.events.list_rules(
        ctx.scope, p.get("NamePrefix") or "", p.get("NextToken") or "", limit + 1, _bus(p)
    )
    out: dict[str, Any] = {"Rules": [rule_to_wire(r) for r in rules[:limit]]}
    if len(rules) > limit:
        out["NextToken"] = rules[limit - 1].name
    return out


def delete_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.events.delete_rule(ctx.scope, p["Name"], bool(p.get("Force")), _bus(p))
    return {}


def enable_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.events.set_state(ctx.scope, p["Name"], True, _bus(p))
    return {}


def disable_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.events.set_state(ctx.scope, p["Name"], False, _bus(p))
    return {}


def put_targets(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    targets = [decode(Target, t, pascal) for t in p["Targets"]]
    failed = ctx.system.events.put_targets(ctx.scope, p["Rule"], targets, _bus(p))
    return _failures(failed)


def _failures(failed: list[tuple[str, str, str]]) -> dict[str, Any]:
    entries = [{"TargetId": i, "ErrorCode": c, "ErrorMessage": m} for i, c, m in failed]
    return {"FailedEntryCount": len(entries), "FailedEntries": entries}


def list_targets_by_rule(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.events.rule(ctx.scope, p["Rule"], _bus(p))
    targets = ctx.system.events.targets(ctx.scope, p["Rule"], _bus(p))
    return {"Targets": [encode(t, pascal) for t in targets]}


def remove_targets(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return _failures(ctx.system.events.remove_targets(ctx.scope, p["Rule"], p["Ids"], _bus(p)))


def list_rule_names_by_target(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"RuleNames": ctx.system.events.rule_names_by_target(ctx.scope, p["TargetArn"], _bus(p))}


def _resource(ctx: RequestContext, arn: str) -> tuple[str, str, str]:
    """("rule", bus, name) or ("bus", name, "") from a rule's or a bus's ARN, in the request's account and Region
    (an ARN of another names nothing here, as on AWS)."""
    if ":event-bus/" in arn:
        name = arn.rsplit(":event-bus/", 1)[1]
        if not ctx.scope.owns(arn):
            raise NotFound(f"Event bus {name} does not exist.")
        return "bus", name, ""
    if ":rule/" not in arn:
        raise NotFound(f"Rule {arn} does not exist on EventBus default.")
    bus, _, name = arn.split(":rule/", 1)[1].rpartition("/")
    if not ctx.scope.owns(arn):
        raise NotFound(f"Rule {name} does not exist on EventBus {bus or 'default'}.")
    return "rule", bus or "default", name


def _tags_of(ctx: RequestContext, arn: str) -> list[dict[str, str]]:
    kind, bus, name = _resource(ctx, arn)
    events = ctx.system.events
    found = events.bus(ctx.scope, bus) if kind == "bus" else events.rule(ctx.scope, name, bus)
    return found.tags or []


def _set_tags(ctx: RequestContext, arn: str, tags: list[dict[str, str]]) -> None:
    kind, bus, name = _resource(ctx, arn)
    if kind == "bus":
        ctx.system.events.set_bus_tags(ctx.scope, bus, tags)
    else:
        ctx.system.events.set_tags(ctx.scope, name, tags, bus)


def tag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = {t["Key"]: t["Value"] for t in _tags_of(ctx, p["ResourceARN"])}
    tags.update({t["Key"]: t["Value"] for t in p["Tags"]})
    _set_tags(ctx, p["ResourceARN"], [{"Key": k, "Value": v} for k, v in tags.items()])
    return {}


def untag_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    kept = [t for t in _tags_of(ctx, p["ResourceARN"]) if t["Key"] not in set(p["TagKeys"])]
    _set_tags(ctx, p["ResourceARN"], kept)
    return {}


def list_tags_for_resource(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": _tags_of(ctx, p["ResourceARN"])}


# buses -------------------------------------------------------------------------------------------------------


def bus_to_wire(bus: EventBus) -> dict[str, Any]:
    wire: dict[str, Any] = {"Name": bus.name, "Arn": bus.arn}
    if bus.description:
        wire["Description"] = bus.description
    if bus.policy:
        wire["Policy"] = bus.policy
    if bus.created_at:
        wire["CreationTime"] = bus.created_at
        wire["LastModifiedTime"] = bus.last_modified
    return wire


def create_event_bus(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    bus = ctx.system.events.create_bus(
        ctx.scope, p["Name"], p.get("Description"), p.get("Tags"), p.get("EventSourceName")
    )
    out = {"EventBusArn": bus.arn}
    if bus.description:
        out["Description"] = bus.description
    return out


def describe_event_bus(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return bus_to_wire(ctx.system.events.bus(ctx.scope, _bus({"EventBusName": p.get("Name")})))


def list_event_buses(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    buses = ctx.system.events.list_buses(ctx.scope, p.get("NamePrefix") or "")
    limit = int(p.get("Limit") or 100)
    after = p.get("NextToken") or ""
    page = [b for b in buses if b.name > after][: limit + 1]
    out: dict[str, Any] = {"EventBuses": [bus_to_wire(b) for b in page[:limit]]}
    if len(page) > limit:
        out["NextToken"] = page[limit - 1].name
    return out


def delete_event_bus(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    ctx.system.events.delete_bus(ctx.scope, _bus({"EventBusName": p["Name"]}))
    return {}


# events ------------------------------------------------------------------------------------------------------


def put_events(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = [
        Entry(
            source=e.get("Source"),
            detail_type=e.get("DetailType"),
            detail=e.get("Detail"),
            resources=tuple(e.get("Resources") or ()),
            time=_instant(e.get("Time")),
            event_bus_name=e.get("EventBusName"),
            trace_header=e.get("TraceHeader"),
        )
        for e in p["Entries"]
    ]
    results = ctx.system.router.put_events(entries, ctx.scope)
    return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


def _instant(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def test_event_pattern(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"Result": ctx.system.router.test_pattern(p["EventPattern"], p["Event"])}


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
        "CreateEventBus": create_event_bus,
        "DescribeEventBus": describe_event_bus,
        "ListEventBuses": list_event_buses,
        "DeleteEventBus": delete_event_bus,
        "PutEvents": put_events,
        "TestEventPattern": test_event_pattern,
    },
)
