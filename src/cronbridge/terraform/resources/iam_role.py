"""aws_iam_role: CreateRole, UpdateAssumeRolePolicy, UpdateRole, DeleteRole."""

from __future__ import annotations

from cronbridge.terraform.resources.base import (
    Aws,
    ResourceType,
    Values,
    drop_none,
    found,
    generated_name,
    tag_changes,
    tags_list,
)
from cronbridge.terraform.schema import Attr, BlockSpec, computed, optional_computed, required

SCHEMA = BlockSpec(
    attrs={
        "name": optional_computed(force_new=True),
        "name_prefix": Attr("string", force_new=True),
        "assume_role_policy": required(json=True),
        "path": Attr("string", default="/", force_new=True),
        "description": Attr("string"),
        "max_session_duration": Attr("number", default=3600),
        "force_detach_policies": Attr("bool", default=False),
        "permissions_boundary": Attr("string", force_new=True),
        "tags": Attr(("map", "string")),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "unique_id": computed(),
        "create_date": computed(),
        "id": computed(),
    },
    blocks={"inline_policy": BlockSpec({"name": required(), "policy": required(json=True)})},
)


def _inline(aws: Aws, role: str, old: Values | None, new: Values) -> None:
    """inline_policy blocks: put the new or changed documents, delete the ones no longer listed."""
    iam = aws.client("iam")
    before = {b["name"]: b["policy"] for b in (old or {}).get("inline_policy") or []}
    after = {b["name"]: b["policy"] for b in new.get("inline_policy") or []}
    for name, document in after.items():
        if before.get(name) != document:
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
    for name in sorted(set(before) - set(after)):
        iam.delete_role_policy(RoleName=role, PolicyName=name)


def _tags(aws: Aws, role: str, old: Values, new: Values) -> None:
    added, removed = tag_changes(old, new)
    iam = aws.client("iam")
    if added:
        iam.tag_role(RoleName=role, Tags=tags_list(added))
    if removed:
        iam.untag_role(RoleName=role, TagKeys=removed)


def create(aws: Aws, values: Values) -> Values:
    """Create the role."""
    name = values.get("name") or generated_name(values.get("name_prefix") or "terraform-")
    role = aws.client("iam").create_role(
        **drop_none(
            RoleName=name,
            AssumeRolePolicyDocument=values["assume_role_policy"],
            Path=values.get("path"),
            Description=values.get("description"),
            PermissionsBoundary=values.get("permissions_boundary"),
            MaxSessionDuration=int(values.get("max_session_duration") or 3600),
            Tags=tags_list(values.get("tags")),
        )
    )["Role"]
    _inline(aws, name, None, values)
    return {
        **values,
        "name": name,
        "arn": role["Arn"],
        "unique_id": role["RoleId"],
        "create_date": str(role["CreateDate"]),
        "id": name,
        "tags_all": values.get("tags") or {},
    }


def update(aws: Aws, old: Values, new: Values) -> Values:
    """Change the trust policy, description or session duration in place."""
    iam = aws.client("iam")
    if old.get("assume_role_policy") != new.get("assume_role_policy"):
        iam.update_assume_role_policy(RoleName=old["name"], PolicyDocument=new["assume_role_policy"])
    iam.update_role(
        **drop_none(
            RoleName=old["name"],
            Description=new.get("description"),
            MaxSessionDuration=int(new.get("max_session_duration") or 3600),
        )
    )
    _inline(aws, old["name"], old, new)
    _tags(aws, old["name"], old, new)
    keep = {k: old[k] for k in ("name", "arn", "unique_id", "create_date", "id")}
    return {**new, **keep, "tags_all": new.get("tags") or {}}


def delete(aws: Aws, values: Values) -> None:
    """Delete the role, detaching its policies first when force_detach_policies is set."""
    iam = aws.client("iam")
    for block in values.get("inline_policy") or []:  # its own inline policies go with it
        iam.delete_role_policy(RoleName=values["name"], PolicyName=block["name"])
    if values.get("force_detach_policies"):
        for policy in iam.list_attached_role_policies(RoleName=values["name"])["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=values["name"], PolicyArn=policy["PolicyArn"])
        for name in iam.list_role_policies(RoleName=values["name"])["PolicyNames"]:
            iam.delete_role_policy(RoleName=values["name"], PolicyName=name)
    iam.delete_role(RoleName=values["name"])


def exists(aws: Aws, values: Values) -> bool:
    """GetRole finds it."""
    return found(lambda: aws.client("iam").get_role(RoleName=values["name"]))


TYPE = ResourceType("aws_iam_role", SCHEMA, create, delete, update, exists)
