"""IAM over the query protocol (2010-05-08): roles, users, access keys, managed and inline policies, tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.query import Handler, QueryService
from cronbridge.api.services import iam_simulate
from cronbridge.identity.errors import IamValidationError
from cronbridge.identity.model import KeyRecord, ManagedPolicy, PolicyVersion, Role, User
from cronbridge.identity.service import IdentityService

Params = dict[str, Any]
Result = dict[str, Any] | None


def _identity(ctx: RequestContext) -> IdentityService:
    return ctx.system.identity


def tags_out(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tags_in(params: Params) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in params.get("Tags", [])}


def role_out(role: Role) -> dict[str, Any]:
    out = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": role.created_at,
        "AssumeRolePolicyDocument": role.trust_policy,
        "Description": role.description,
        "MaxSessionDuration": role.max_session_duration,
        "RoleLastUsed": {},
    }
    if role.tags:
        out["Tags"] = tags_out(role.tags)
    return out


def user_out(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": user.created_at,
    }
    if user.tags:
        out["Tags"] = tags_out(user.tags)
    return out


def policy_out(policy: ManagedPolicy) -> dict[str, Any]:
    out = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version,
        "AttachmentCount": policy.attachment_count,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "Description": policy.description,
        "CreateDate": policy.created_at,
        "UpdateDate": policy.updated_at,
    }
    if policy.tags:
        out["Tags"] = tags_out(policy.tags)
    return out


def version_out(version: PolicyVersion, with_document: bool = True) -> dict[str, Any]:
    return {
        "Document": version.document if with_document else None,
        "VersionId": version.version_id,
        "IsDefaultVersion": version.is_default,
        "CreateDate": version.created_at,
    }


def key_out(key: KeyRecord) -> dict[str, Any]:
    return {
        "UserName": key.user_name,
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": key.created_at,
    }


def page(items: list[Any], params: Params, key: str) -> dict[str, Any]:
    """IAM's Marker / MaxItems / IsTruncated pagination over a listed result."""
    start = int(params["Marker"]) if str(params.get("Marker", "")).isdigit() else 0
    size = int(params.get("MaxItems") or 100)
    chunk = items[start : start + size]
    truncated = start + size < len(items)
    out: dict[str, Any] = {key: chunk, "IsTruncated": truncated}
    if truncated:
        out["Marker"] = str(start + size)
    return out


def caller_user(ctx: RequestContext, params: Params) -> str:
    """UserName, or the calling user's own name when it is omitted (as IAM does)."""
    if params.get("UserName"):
        return str(params["UserName"])
    principal = ctx.principal
    if principal is None or principal.kind != "user":
        raise IamValidationError("Must specify userName when calling with non-User credentials")
    return principal.name


# roles


def create_role(ctx: RequestContext, p: Params) -> Result:
    role = _identity(ctx).create_role(
        p["RoleName"],
        p["AssumeRolePolicyDocument"],
        p.get("Path", "/"),
        p.get("Description"),
        p.get("MaxSessionDuration", 3600),
        tags_in(p),
    )
    return {"Role": role_out(role)}


def get_role(ctx: RequestContext, p: Params) -> Result:
    return {"Role": role_out(_identity(ctx).get_role(p["RoleName"]))}


def list_roles(ctx: RequestContext, p: Params) -> Result:
    roles = [role_out(r) for r in _identity(ctx).list_roles(p.get("PathPrefix", "/"))]
    for role in roles:
        role.pop("Tags", None)
        role.pop("RoleLastUsed", None)
    return page(roles, p, "Roles")


def delete_role(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).delete_role(p["RoleName"])
    return None


def update_role(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).update_role(p["RoleName"], p.get("Description"), p.get("MaxSessionDuration"))
    return None


def update_role_description(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).update_role(p["RoleName"], p["Description"])
    return {"Role": role_out(_identity(ctx).get_role(p["RoleName"]))}


def update_assume_role_policy(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).update_trust_policy(p["RoleName"], p["PolicyDocument"])
    return None


def tag_role(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).tag_role(p["RoleName"], tags_in(p))
    return None


def untag_role(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).untag_role(p["RoleName"], p["TagKeys"])
    return None


def list_role_tags(ctx: RequestContext, p: Params) -> Result:
    return page(tags_out(_identity(ctx).get_role(p["RoleName"]).tags), p, "Tags")


# managed policies


def create_policy(ctx: RequestContext, p: Params) -> Result:
    policy = _identity(ctx).policies.create(
        p["PolicyName"], p["PolicyDocument"], p.get("Path", "/"), p.get("Description"), tags_in(p)
    )
    out = policy_out(policy)
    out.pop("Description", None)  # CreatePolicy does not echo the description
    return {"Policy": out}


def get_policy(ctx: RequestContext, p: Params) -> Result:
    return {"Policy": policy_out(_identity(ctx).policies.get(p["PolicyArn"]))}


def list_policies(ctx: RequestContext, p: Params) -> Result:
    found = _identity(ctx).policies.store.policies(
        p.get("Scope", "All"), p.get("PathPrefix", "/"), bool(p.get("OnlyAttached"))
    )
    return page([policy_out(x) for x in found], p, "Policies")


def delete_policy(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).policies.delete(p["PolicyArn"])
    return None


def get_policy_version(ctx: RequestContext, p: Params) -> Result:
    return {"PolicyVersion": version_out(_identity(ctx).policies.version(p["PolicyArn"], p["VersionId"]))}


def create_policy_version(ctx: RequestContext, p: Params) -> Result:
    made = _identity(ctx).policies.create_version(p["PolicyArn"], p["PolicyDocument"], bool(p.get("SetAsDefault")))
    return {"PolicyVersion": version_out(made, with_document=False)}


def list_policy_versions(ctx: RequestContext, p: Params) -> Result:
    versions = _identity(ctx).policies.versions(p["PolicyArn"])
    return page([version_out(v, with_document=False) for v in versions], p, "Versions")


def delete_policy_version(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).policies.delete_version(p["PolicyArn"], p["VersionId"])
    return None


def set_default_policy_version(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).policies.set_default_version(p["PolicyArn"], p["VersionId"])
    return None


def tag_policy(ctx: RequestContext, p: Params) -> Result:
    policy = _identity(ctx).policies.get(p["PolicyArn"])
    _identity(ctx).policies.set_tags(policy.arn, {**policy.tags, **tags_in(p)})
    return None


def untag_policy(ctx: RequestContext, p: Params) -> Result:
    policy = _identity(ctx).policies.get(p["PolicyArn"])
    _identity(ctx).policies.set_tags(policy.arn, {k: v for k, v in policy.tags.items() if k not in p["TagKeys"]})
    return None


def list_policy_tags(ctx: RequestContext, p: Params) -> Result:
    return page(tags_out(_identity(ctx).policies.get(p["PolicyArn"]).tags), p, "Tags")


# attachments and inline policies, for roles and users alike


def _attach(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        _identity(ctx).policies.attach(kind, owner, p["PolicyArn"])  # type: ignore[arg-type]
        return None

    return handler


def _detach(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        _identity(ctx).policies.detach(kind, owner, p["PolicyArn"])  # type: ignore[arg-type]
        return None

    return handler


def _list_attached(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        found = _identity(ctx).policies.attached(kind, owner)  # type: ignore[arg-type]
        prefix = p.get("PathPrefix", "/")
        listed = [{"PolicyName": x.name, "PolicyArn": x.arn} for x in found if x.path.startswith(prefix)]
        return page(listed, p, "AttachedPolicies")

    return handler


def _put_inline(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        _identity(ctx).policies.put_inline(kind, owner, p["PolicyName"], p["PolicyDocument"])  # type: ignore[arg-type]
        return None

    return handler


def _get_inline(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        name, document = _identity(ctx).policies.inline(kind, owner, p["PolicyName"])  # type: ignore[arg-type]
        return {owner_field: owner, "PolicyName": name, "PolicyDocument": document}

    return handler


def _list_inline(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        return page(_identity(ctx).policies.inline_names(kind, owner), p, "PolicyNames")  # type: ignore[arg-type]

    return handler


def _delete_inline(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        _identity(ctx).policies.delete_inline(kind, owner, p["PolicyName"])  # type: ignore[arg-type]
        return None

    return handler


def _owner(ctx: RequestContext, kind: str, name: str) -> str:
    """The stored name of the role or user (NoSuchEntity when there is none)."""
    identity = _identity(ctx)
    return identity.get_role(name).name if kind == "role" else identity.get_user(name).name


# users and access keys


def create_user(ctx: RequestContext, p: Params) -> Result:
    return {"User": user_out(_identity(ctx).create_user(p["UserName"], p.get("Path", "/"), tags_in(p)))}


def get_user(ctx: RequestContext, p: Params) -> Result:
    return {"User": user_out(_identity(ctx).get_user(caller_user(ctx, p)))}


def list_users(ctx: RequestContext, p: Params) -> Result:
    users = [user_out(u) for u in _identity(ctx).list_users(p.get("PathPrefix", "/"))]
    for user in users:
        user.pop("Tags", None)
    return page(users, p, "Users")


def delete_user(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).delete_user(p["UserName"])
    return None


def tag_user(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).tag_user(p["UserName"], tags_in(p))
    return None


def untag_user(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).untag_user(p["UserName"], p["TagKeys"])
    return None


def list_user_tags(ctx: RequestContext, p: Params) -> Result:
    return page(tags_out(_identity(ctx).get_user(p["UserName"]).tags), p, "Tags")


def create_access_key(ctx: RequestContext, p: Params) -> Result:
    pair = _identity(ctx).create_access_key(caller_user(ctx, p))
    return {
        "AccessKey": {
            "UserName": pair.user_name,
            "AccessKeyId": pair.access_key_id,
            "Status": pair.status,
            "SecretAccessKey": pair.secret_access_key,
            "CreateDate": pair.created_at,
        }
    }


def list_access_keys(ctx: RequestContext, p: Params) -> Result:
    keys = _identity(ctx).access_keys(caller_user(ctx, p))
    return page([key_out(k) for k in keys], p, "AccessKeyMetadata")


def update_access_key(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).update_access_key(caller_user(ctx, p), p["AccessKeyId"], p["Status"])
    return None


def delete_access_key(ctx: RequestContext, p: Params) -> Result:
    _identity(ctx).delete_access_key(caller_user(ctx, p), p["AccessKeyId"])
    return None


def _owned(kind: str, owner_field: str) -> dict[str, Handler]:
    noun = "Role" if kind == "role" else "User"
    makers: dict[str, Callable[[str, str], Handler]] = {
        f"Attach{noun}Policy": _attach,
        f"Detach{noun}Policy": _detach,
        f"ListAttached{noun}Policies": _list_attached,
        f"Put{noun}Policy": _put_inline,
        f"Get{noun}Policy": _get_inline,
        f"List{noun}Policies": _list_inline,
        f"Delete{noun}Policy": _delete_inline,
    }
    return {name: make(kind, owner_field) for name, make in makers.items()}


OPERATIONS: dict[str, Handler] = {
    "CreateRole": create_role,
    "GetRole": get_role,
    "ListRoles": list_roles,
    "DeleteRole": delete_role,
    "UpdateRole": update_role,
    "UpdateRoleDescription": update_role_description,
    "UpdateAssumeRolePolicy": update_assume_role_policy,
    "TagRole": tag_role,
    "UntagRole": untag_role,
    "ListRoleTags": list_role_tags,
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "ListPolicies": list_policies,
    "DeletePolicy": delete_policy,
    "GetPolicyVersion": get_policy_version,
    "CreatePolicyVersion": create_policy_version,
    "ListPolicyVersions": list_policy_versions,
    "DeletePolicyVersion": delete_policy_version,
    "SetDefaultPolicyVersion": set_default_policy_version,
    "TagPolicy": tag_policy,
    "UntagPolicy": untag_policy,
    "ListPolicyTags": list_policy_tags,
    "CreateUser": create_user,
    "GetUser": get_user,
    "ListUsers": list_users,
    "DeleteUser": delete_user,
    "TagUser": tag_user,
    "UntagUser": untag_user,
    "ListUserTags": list_user_tags,
    "CreateAccessKey": create_access_key,
    "ListAccessKeys": list_access_keys,
    "UpdateAccessKey": update_access_key,
    "DeleteAccessKey": delete_access_key,
    "SimulatePrincipalPolicy": iam_simulate.simulate_principal_policy,
    **_owned("role", "RoleName"),
    **_owned("user", "UserName"),
}

SERVICE = QueryService("iam", "iam", "https://iam.amazonaws.com/doc/2010-05-08/", OPERATIONS)
