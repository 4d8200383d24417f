"""IAM's wire shapes, shared by the IAM handlers: roles, users, policies, keys, tags, and IAM's pagination."""

from __future__ import annotations

import unicodedata
from typing import Any

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.shapes import shown, validation_message
from cronbridge.identity.errors import IamValidationError, InvalidInput
from cronbridge.identity.model import KeyRecord, ManagedPolicy, PolicyVersion, Role, User
from cronbridge.identity.service import IdentityService

Params = dict[str, Any]
Result = dict[str, Any] | None


def identity_of(ctx: RequestContext) -> IdentityService:
    return ctx.system.identity


def tags_out(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


TAG_KEY_PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"  # the model's tagKeyType and tagValueType (`*`: may be empty)
TAG_VALUE_PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
_TAG_SYMBOLS = frozenset("_.:/=+-@")
DUPLICATE_TAGS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


def tags_in(params: Params) -> dict[str, str]:
    """A request's Tags, refused as IAM refuses them: characters outside the model's pattern (which Python's `re`
    cannot read: `\\p{L}` is a Unicode category), and two keys that differ only in case (IAM's tag keys are case
    insensitive: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html)."""
    tags = params.get("Tags", [])
    problems = [problem for i, tag in enumerate(tags, 1) for problem in _tag_problems(i, tag)]
    if problems:
        raise IamValidationError(validation_message(problems))
    if len({t["Key"].lower() for t in tags}) < len(tags):
        raise InvalidInput(DUPLICATE_TAGS)
    return {t["Key"]: t.get("Value", "") for t in tags}


def _tag_problems(index: int, tag: dict[str, str]) -> list[str]:
    found = []
    for member, pattern in (("key", TAG_KEY_PATTERN), ("value", TAG_VALUE_PATTERN)):
        text = tag.get(member.capitalize(), "")
        if not all(_tag_character(c) for c in text):
            found.append(f"Value '{shown(text)}' at 'tags.{index}.member.{member}' failed to satisfy constraint: "
                         f"Member must satisfy regular expression pattern: {pattern}")
    return found


def _tag_character(char: str) -> bool:
    """A letter, separator or number (Unicode's L*, Z*, N*), or one of `_.:/=+-@`."""
    return char in _TAG_SYMBOLS or unicodedata.category(char)[0] in "LZN"


def boundary_out(arn: str | None) -> dict[str, Any]:
    """The PermissionsBoundary member of GetUser / GetRole (absent when there is none)."""
    return {"PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}} if arn else {}


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
        **boundary_out(role.permissions_boundary),
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
        **boundary_out(user.permissions_boundary),
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
        "PermissionsBoundaryUsageCount": policy.boundary_count,
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
