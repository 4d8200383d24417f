"""IAM instance profiles over the query protocol: every call the Terraform AWS provider makes for them."""

from __future__ import annotations

from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.query import Handler
from cronbridge.api.services.iam_shapes import Params, Result, identity_of, page, role_out, tags_in, tags_out
from cronbridge.identity.model import InstanceProfile
from cronbridge.identity.profiles import ProfileService


def profile_out(profiles: ProfileService, profile: InstanceProfile, with_tags: bool = True) -> dict[str, Any]:
    role = profiles.role_of(profile)
    shown_role = role_out(role) if role is not None else None
    if shown_role is not None:
        for member in ("Tags", "RoleLastUsed", "PermissionsBoundary", "MaxSessionDuration", "Description"):
            shown_role.pop(member, None)
    out: dict[str, Any] = {
        "Path": profile.path,
        "InstanceProfileName": profile.name,
        "InstanceProfileId": profile.profile_id,
        "Arn": profile.arn,
        "CreateDate": profile.created_at,
        "Roles": [shown_role] if shown_role else [],
    }
    if with_tags:  # GetInstanceProfile shows Tags even when there are none
        out["Tags"] = tags_out(profile.tags)
    return out


def create_instance_profile(ctx: RequestContext, p: Params) -> Result:
    profiles = identity_of(ctx).profiles
    made = profiles.create(p["InstanceProfileName"], p.get("Path", "/"), tags_in(p))
    return {"InstanceProfile": profile_out(profiles, made)}


def get_instance_profile(ctx: RequestContext, p: Params) -> Result:
    profiles = identity_of(ctx).profiles
    return {"InstanceProfile": profile_out(profiles, profiles.get(p["InstanceProfileName"]))}


def list_instance_profiles(ctx: RequestContext, p: Params) -> Result:
    profiles = identity_of(ctx).profiles
    found = [profile_out(profiles, x, with_tags=False) for x in profiles.all(p.get("PathPrefix", "/"))]
    return page(found, p, "InstanceProfiles")


def list_instance_profiles_for_role(ctx: RequestContext, p: Params) -> Result:
    profiles = identity_of(ctx).profiles
    found = [profile_out(profiles, x, with_tags=False) for x in profiles.for_role(p["RoleName"])]
    return page(found, p, "InstanceProfiles")


def delete_instance_profile(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).profiles.delete(p["InstanceProfileName"])
    return None


def add_role_to_instance_profile(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).profiles.add_role(p["InstanceProfileName"], p["RoleName"])
    return None


def remove_role_from_instance_profile(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).profiles.remove_role(p["InstanceProfileName"], p["RoleName"])
    return None


def tag_instance_profile(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).profiles.tag(p["InstanceProfileName"], tags_in(p))
    return None


def untag_instance_profile(ctx: RequestContext, p: Params) -> Result:
    identity_of(ctx).profiles.untag(p["InstanceProfileName"], p["TagKeys"])
    return None


def list_instance_profile_tags(ctx: RequestContext, p: Params) -> Result:
    return page(tags_out(identity_of(ctx).profiles.get(p["InstanceProfileName"]).tags), p, "Tags")


OPERATIONS: dict[str, Handler] = {
    "CreateInstanceProfile": create_instance_profile,
    "GetInstanceProfile": get_instance_profile,
    "ListInstanceProfiles": list_instance_profiles,
    "ListInstanceProfilesForRole": list_instance_profiles_for_role,
    "DeleteInstanceProfile": delete_instance_profile,
    "AddRoleToInstanceProfile": add_role_to_instance_profile,
    "RemoveRoleFromInstanceProfile": remove_role_from_instance_profile,
    "TagInstanceProfile": tag_instance_profile,
    "UntagInstanceProfile": untag_instance_profile,
    "ListInstanceProfileTags": list_instance_profile_tags,
}
