"""IAM over the query protocol (2010-05-08): roles, users, access keys, managed and inline policies, permissions
boundaries, tags; groups, instance profiles and OIDC providers are in iam_groups.py, iam_profiles.py, iam_oidc.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.query import Handler, QueryService
from cronbridge.api.services import iam_groups, iam_oidc, iam_profiles, iam_simulate
from cronbridge.api.services.iam_shapes import (
    Params,
    Result,
    caller_user,
    identity_of,
    key_out,
    page,
    policy_out,
    role_out,
    tags_in,
    tags_out,
    user_out,
    version_out,
)

# roles


def create_role(ctx: RequestContext, p: Params) -> Result:
    role = identity_of(ctx).create_role(
        p["RoleName"],
        p["AssumeRolePolicyDocument"],
        p.get("Path", "/"),
        p.get("Description"),
        p.get("MaxSessionDuration", 3600),
        tags_in(p),
        p.get("PermissionsBoundary"),
    )
    return {"Role": role_out(role)}


def get_role(ctx: RequestContext, p: Params) -> Result:
    return {"Role": role_out(identity_of(ctx).get_role(p["RoleName"]))}


def list_roles(ctx: RequestContext, p: Params) -> Result:
    roles = [role_out(r) for r in identity_of(ctx).list_roles(p.get("PathPrefix", "/"))]
    for role in roles:  # ListRoles leaves these out, as IAM does
        role.pop("Tags", None)
        role.pop("RoleLastUsed", None)
        role.pop("PermissionsBoundary", None)
    return page(roles, p, "Roles")


def delete_role(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).delete_role(p["RoleName"])
    return None


def update_role(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).update_role(p["RoleName"], p.get("Description"), p.get("MaxSessionDuration"))
    return None


def update_role_description(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).update_role(p["RoleName"], p["Description"])
    return {"Role": role_out(identity_of(ctx).get_role(p["RoleName"]))}


def update_assume_role_policy(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).update_trust_policy(p["RoleName"], p["PolicyDocument"])
    return None


def put_role_permissions_boundary(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).put_role_boundary(p["RoleName"], p["PermissionsBoundary"])
    return None


def delete_role_permissions_boundary(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).delete_role_boundary(p["RoleName"])
    return None


def tag_role(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).tag_role(p["RoleName"], tags_in(p))
    return None


def untag_role(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).untag_role(p["RoleName"], p["TagKeys"])
    return None


def list_role_tags(ctx: RequestContext, p: Params) -> Result:
    return page(tags_out(identity_of(ctx).get_role(p["RoleName"]).tags), p, "Tags")


# managed policies


def create_policy(ctx: RequestContext, p: Params) -> Result:
    policy = identity_of(ctx).policies.create(
        p["PolicyName"], p["PolicyDocument"], p.get("Path", "/"), p.get("Description"), tags_in(p)
    )
    out = policy_out(policy)
    out.pop("Description", None)  # CreatePolicy does not echo the description
    return {"Policy": out}


def get_policy(ctx: RequestContext, p: Params) -> Result:
    policy = identity_of(ctx).policies.get(p["PolicyArn"])
    return {"Policy": {**policy_out(policy), "Tags": tags_out(policy.tags)}}  # GetPolicy's Tags, even none


def list_policies(ctx: RequestContext, p: Params) -> Result:
    found = identity_of(ctx).policies.store.policies(
        p.get("Scope", "All"), p.get("PathPrefix", "/"), bool(p.get("OnlyAttached"))
    )
    return page([_listed(policy_out(x)) for x in found], p, "Policies")


def _listed(policy: dict[str, Any]) -> dict[str, Any]:
    """ListPolicies leaves out Description and Tags (API_Policy.html: "not included in the response to the
    ListPolicies operation")."""
    return {k: v for k, v in policy.items() if k not in ("Description", "Tags")}


def delete_policy(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).policies.delete(p["PolicyArn"])
    return None


def get_policy_version(ctx: RequestContext, p: Params) -> Result:
    return {"PolicyVersion": version_out(identity_of(ctx).policies.version(p["PolicyArn"], p["VersionId"]))}


def create_policy_version(ctx: RequestContext, p: Params) -> Result:
    made = identity_of(ctx).policies.create_version(p["PolicyArn"], p["PolicyDocument"], bool(p.get("SetAsDefault")))
    return {"PolicyVersion": version_out(made, with_document=False)}


def list_policy_versions(ctx: RequestContext, p: Params) -> Result:
    versions = identity_of(ctx).policies.versions(p["PolicyArn"])
    return page([version_out(v, with_document=False) for v in versions], p, "Versions")


def delete_policy_version(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).policies.delete_version(p["PolicyArn"], p["VersionId"])
    return None


def set_default_policy_version(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).policies.set_default_version(p["PolicyArn"], p["VersionId"])
    return None


def tag_policy(ctx: RequestContext, p: Params) -> Result:
    policy = identity_of(ctx).policies.get(p["PolicyArn"])
    identity_of(ctx).policies.set_tags(policy.arn, {**policy.tags, **tags_in(p)})
    return None


def untag_policy(ctx: RequestContext, p: Params) -> Result:
    policy = identity_of(ctx).policies.get(p["PolicyArn"])
    identity_of(ctx).policies.set_tags(policy.arn, {k: v for k, v in policy.tags.items() if k not in p["TagKeys"]})
    return None


def list_policy_tags(ctx: RequestContext, p: Params) -> Result:
    return page(tags_out(identity_of(ctx).policies.get(p["PolicyArn"]).tags), p, "Tags")


# attachments and inline policies, for roles and users alike


def _attach(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        identity_of(ctx).policies.attach(kind, owner, p["PolicyArn"])  # type: ignore[arg-type]
        return None

    return handler


def _detach(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        identity_of(ctx).policies.detach(kind, owner, p["PolicyArn"])  # type: ignore[arg-type]
        return None

    return handler


def _list_attached(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        found = identity_of(ctx).policies.attached(kind, owner)  # type: ignore[arg-type]
        prefix = p.get("PathPrefix", "/")
        listed = [{"PolicyName": x.name, "PolicyArn": x.arn} for x in found if x.path.startswith(prefix)]
        return page(listed, p, "AttachedPolicies")

    return handler


def _put_inline(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        identity_of(ctx).policies.put_inline(kind, owner, p["PolicyName"], p["PolicyDocument"])  # type: ignore[arg-type]
        return None

    return handler


def _get_inline(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        name, document = identity_of(ctx).policies.inline(kind, owner, p["PolicyName"])  # type: ignore[arg-type]
        return {owner_field: owner, "PolicyName": name, "PolicyDocument": document}

    return handler


def _list_inline(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        return page(identity_of(ctx).policies.inline_names(kind, owner), p, "PolicyNames")  # type: ignore[arg-type]

    return handler


def _delete_inline(kind: str, owner_field: str) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> Result:
        owner = _owner(ctx, kind, p[owner_field])
        identity_of(ctx).policies.delete_inline(kind, owner, p["PolicyName"])  # type: ignore[arg-type]
        return None

    return handler


def _owner(ctx: RequestContext, kind: str, name: str) -> str:
    """The stored name of the role, user or group (NoSuchEntity when there is none)."""
    identity = identity_of(ctx)
    if kind == "group":
        return identity.groups.get(name).name
    return identity.get_role(name).name if kind == "role" else identity.get_user(name).name


# users and access keys


def create_user(ctx: RequestContext, p: Params) -> Result:
    made = identity_of(ctx).create_user(p["UserName"], p.get("Path", "/"), tags_in(p), p.get("PermissionsBoundary"))
    return {"User": user_out(made)}


def get_user(ctx: RequestContext, p: Params) -> Result:
    return {"User": user_out(identity_of(ctx).get_user(caller_user(ctx, p)))}


def list_users(ctx: RequestContext, p: Params) -> Result:
    users = [user_out(u) for u in identity_of(ctx).list_users(p.get("PathPrefix", "/"))]
    for user in users:  # ListUsers leaves these out, as IAM does
        user.pop("Tags", None)
        user.pop("PermissionsBoundary", None)
    return page(users, p, "Users")


def delete_user(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).delete_user(p["UserName"])
    return None


def put_user_permissions_boundary(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).put_user_boundary(p["UserName"], p["PermissionsBoundary"])
    return None


def delete_user_permissions_boundary(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).delete_user_boundary(p["UserName"])
    return None


def tag_user(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).tag_user(p["UserName"], tags_in(p))
    return None


def untag_user(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).untag_user(p["UserName"], p["TagKeys"])
    return None


def list_user_tags(ctx: RequestContext, p: Params) -> Result:
    return page(tags_out(identity_of(ctx).get_user(p["UserName"]).tags), p, "Tags")


def create_access_key(ctx: RequestContext, p: Params) -> Result:
    pair = identity_of(ctx).create_access_key(caller_user(ctx, p))
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
    keys = identity_of(ctx).access_keys(caller_user(ctx, p))
    return page([key_out(k) for k in keys], p, "AccessKeyMetadata")


def update_access_key(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).update_access_key(caller_user(ctx, p), p["AccessKeyId"], p["Status"])
    return None


def delete_access_key(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).delete_access_key(caller_user(ctx, p), p["AccessKeyId"])
    return None


def get_access_key_last_used(ctx: RequestContext, p: Params) -> Result:
    user, use = identity_of(ctx).key_last_used(p["AccessKeyId"])
    if use is None:
        return {"UserName": user, "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}
    return {"UserName": user,
            "AccessKeyLastUsed": {"LastUsedDate": use.at, "ServiceName": use.service, "Region": use.region}}


def _owned(kind: str, owner_field: str) -> dict[str, Handler]:
    noun = {"role": "Role", "user": "User", "group": "Group"}[kind]
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
    "PutRolePermissionsBoundary": put_role_permissions_boundary,
    "DeleteRolePermissionsBoundary": delete_role_permissions_boundary,
    "PutUserPermissionsBoundary": put_user_permissions_boundary,
    "DeleteUserPermissionsBoundary": delete_user_permissions_boundary,
    "GetAccessKeyLastUsed": get_access_key_last_used,
    **_owned("role", "RoleName"),
    **_owned("user", "UserName"),
    **_owned("group", "GroupName"),
    **iam_groups.OPERATIONS,
    **iam_profiles.OPERATIONS,
    **iam_oidc.OPERATIONS,
}

SERVICE = QueryService("iam", "iam", "https://iam.amazonaws.com/doc/2010-05-08/", OPERATIONS)
