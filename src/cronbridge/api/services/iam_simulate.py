"""IAM SimulatePrincipalPolicy: a user's or role's policies evaluated for actions and resources, with the reasons."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.iam.evaluate import Deciding, NamedPolicy, Request, evaluate
from cronbridge.identity.errors import InvalidInput
from cronbridge.identity.policies import parsed

_DECISIONS = {"Allow": "allowed", "ExplicitDeny": "explicitDeny", "ImplicitDeny": "implicitDeny"}


def simulate_principal_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    source = p["PolicySourceArn"]
    policies = _source_policies(ctx, source)
    policies += [
        NamedPolicy(f"PolicyInputList.{i}", parsed(text))
        for i, text in enumerate(p.get("PolicyInputList", []), start=1)
    ]
    context = _context(p.get("ContextEntries", []))
    results = [
        _result(source, action, resource, policies, context)
        for action in p["ActionNames"]
        for resource in p.get("ResourceArns") or ["*"]
    ]
    return {"EvaluationResults": results, "IsTruncated": False}


def _source_policies(ctx: RequestContext, source: str) -> list[NamedPolicy]:
    resource = source.split(":", 5)[-1] if source.startswith("arn:") else ""
    kind, _, rest = resource.partition("/")
    name = rest.rsplit("/", 1)[-1]
    identity = ctx.system.identity
    if kind == "user":
        return identity.policies.named("user", identity.get_user(name).name)
    if kind == "role":
        return identity.policies.named("role", identity.get_role(name).name)
    raise InvalidInput(f"Invalid ARN: {source}: only users and roles can be simulated.")


def _context(entries: list[dict[str, Any]]) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {}
    for entry in entries:
        values = [str(v) for v in entry.get("ContextKeyValues", [])]
        is_list = str(entry.get("ContextKeyType", "")).endswith("List")
        context[entry["ContextKeyName"]] = values if is_list else (values[0] if values else "")
    return context


def _result(
    source: str, action: str, resource: str, policies: list[NamedPolicy], context: dict[str, str | list[str]]
) -> dict[str, Any]:
    decision = evaluate(Request(action, resource, source, context), policies)
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": _DECISIONS[decision.effect],
        "MatchedStatements": [_statement(d) for d in decision.statements],
        "MissingContextValues": [],
    }


def _statement(deciding: Deciding) -> dict[str, Any]:
    name = deciding.policy
    if name.startswith("arn:aws:iam::aws:"):
        kind = "aws-managed"
    elif name.startswith("arn:"):
        kind = "user-managed"
    elif name.startswith("inline:"):
        kind = "IAM Policy"
    else:
        kind = "none"
    return {"SourcePolicyId": name, "SourcePolicyType": kind}
