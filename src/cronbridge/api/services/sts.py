"""STS over the query protocol (2011-06-15): GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity (unsigned,
the token checked offline against the account's OIDC provider) and GetSessionToken, with expiring credentials."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.query import Handler, QueryService
from cronbridge.identity.model import TemporaryCredentials


def get_caller_identity(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    principal = ctx.principal or ctx.system.identity.admin()
    return {"UserId": principal.user_id, "Account": principal.account, "Arn": principal.arn}


def assume_role(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.principal or ctx.system.identity.admin()
    context = {"sts:ExternalId": p["ExternalId"]} if p.get("ExternalId") else {}
    if ctx.source_ip:
        context["aws:SourceIp"] = ctx.source_ip
    creds = ctx.system.identity.assume_role(
        p["RoleArn"],
        p["RoleSessionName"],
        p.get("DurationSeconds"),
        caller,
        p.get("Policy"),
        tuple(item["arn"] for item in p.get("PolicyArns", []) if item.get("arn")),
        context,
    )
    return _session_out(creds)


def _credentials(creds: TemporaryCredentials) -> dict[str, Any]:
    return {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token, "Expiration": creds.expires_at}


def _session_out(creds: TemporaryCredentials) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Credentials": _credentials(creds),
        "AssumedRoleUser": {"AssumedRoleId": creds.assumed_role_id, "Arn": creds.assumed_role_arn},
    }
    if creds.packed_policy_size is not None:
        out["PackedPolicySize"] = creds.packed_policy_size
    return out


def assume_role_with_web_identity(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    creds, found = ctx.system.identity.sessions.assume_with_web_identity(
        p["RoleArn"],
        p["RoleSessionName"],
        p["WebIdentityToken"],
        p.get("DurationSeconds"),
        p.get("Policy"),
        tuple(item["arn"] for item in p.get("PolicyArns", []) if item.get("arn")),
    )
    return {**_session_out(creds), "SubjectFromWebIdentityToken": found.subject, "Provider": found.issuer,
            "Audience": found.audience}


def get_session_token(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.principal or ctx.system.identity.admin()
    creds = ctx.system.identity.sessions.session_token(caller, ctx.key, p.get("DurationSeconds"))
    return {"Credentials": _credentials(creds)}


OPERATIONS: dict[str, Handler] = {
    "GetCallerIdentity": get_caller_identity,
    "AssumeRole": assume_role,
    "AssumeRoleWithWebIdentity": assume_role_with_web_identity,
    "GetSessionToken": get_session_token,
}

SERVICE = QueryService("sts", "sts", "https://sts.amazonaws.com/doc/2011-06-15/", OPERATIONS)
