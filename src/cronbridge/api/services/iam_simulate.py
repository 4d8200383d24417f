"""IAM SimulatePrincipalPolicy: a user's (with its groups') or role's policies, and its permissions boundary,
evaluated for actions and resources, with the reasons."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.iam.evaluate import Deciding, NamedPolicy, Request, evaluate
from cronbridge.identity.errors import InvalidInput
from cronbridge.identity.model import Principal
from cronbridge.identity.policies import checked

_DECISIONS = {"Allow": "allowed", "ExplicitDeny": "explicitDeny", "ImplicitDeny": "implicitDeny"}


def simulate_principal_policy(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    source = p["PolicySourceArn"]
    policies, boundary = _source_policies(ctx, source)
    policies += [
        NamedPolicy(f"PolicyInputList.{i}", checked(text))
        for i, text in enumerate(p.get("PolicyInputList", []), start=1)
    ]
    for text in p.get("PermissionsBoundaryPolicyInputList", [])[:1]:
        boundary = NamedPolicy("PermissionsBoundaryPolicyInputList.1", checked(text))
    context = _context(p.get("ContextEntries", []))
    results = [
        _result(source, action, resource, policies, context, boundary)
        for action in p["ActionNames"]
        for resource in p.get("ResourceArns") or ["*"]
    ]
    return {"EvaluationResults": results, "IsTruncated": False}


def _source_policies(ctx: RequestContext, source: str) -> tuple[list[NamedPolicy], NamedPolicy | None]:
    """The identity policies of the user (with its groups') or role, and its permissions boundary."""
    resource = source.split(":", 5)[-1] if source.startswith("arn:") else ""
    kind, _, rest = resource.partition("/")
    name = rest.rsplit("/", 1)[-1]
    identity = ctx.system.identity
    if kind == "user":
        user = identity.get_user(name)
        principal = Principal(user.arn, "user", user.name, identity.account, user.user_id)
    elif kind == "role":
        role = identity.get_role(name)
        principal = Principal(role.arn, "assumed-role", role.name, identity.account, role.role_id, role_arn=role.arn)
    else:
        raise InvalidInput(f"Invalid ARN: {source}: only users and roles can be simulated.")
    return list(identity.policies_for(principal)), identity.boundary_for(principal)


def _context(entries: list[dict[str, Any]]) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {}
    for entry in entries:
        values = [str(v) for v in entry.get("ContextKeyValues", [])]
        is_list = str(entry.get("ContextKeyType", "")).endswith("List")
        context[entry["ContextKeyName"]] = values if is_list else (values[0] if values else "")
    return context


def _result(
    source: str, action: str, resource: str, policies: list[NamedPolicy], context: dict[str, str | list[str]],
    boundary: NamedPolicy | None = None,
) -> dict[str, Any]:
    request = Request(action, resource, source, context)
    decision = evaluate(request, policies, None, boundary)
    out: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": _DECISIONS[decision.effect],
        "MatchedStatements": [_statement(d) for d in decision.statements],
        "MissingContextValues": [],
    }
    if boundary is not None:
        allowed = evaluate(request, [boundary]).allowed
        out["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": allowed}
    return out


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
