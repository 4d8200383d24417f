"""STS over the query protocol (2011-06-15): GetCallerIdentity and AssumeRole with expiring credentials."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.query import Handler, QueryService


def get_caller_identity(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal or ctx.system.identity.admin()
    return {"UserId": principal.user_id, "Account": principal.account, "Arn": principal.arn}


def assume_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.principal or ctx.system.identity.admin()
    creds = ctx.system.identity.assume_role(
        p["RoleArn"],
        p["RoleSessionName"],
        p.get("DurationSeconds"),
        caller,
        p.get("Policy"),
        tuple(item["arn"] for item in p.get("PolicyArns", []) if item.get("arn")),
    )
    out: dict[str, Any] = {
        "Credentials": {
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token,
            "Expiration": creds.expires_at,
        },
        "AssumedRoleUser": {"AssumedRoleId": creds.assumed_role_id, "Arn": creds.assumed_role_arn},
    }
    if creds.packed_policy_size is not None:
        out["PackedPolicySize"] = creds.packed_policy_size
    return out


OPERATIONS: dict[str, Handler] = {"GetCallerIdentity": get_caller_identity, "AssumeRole": assume_role}

SERVICE = QueryService("sts", "sts", "https://sts.amazonaws.com/doc/2011-06-15/", OPERATIONS)
