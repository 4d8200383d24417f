"""aws_iam_policy: CreatePolicy, CreatePolicyVersion (update), DeletePolicy."""

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
        "path": Attr("string", default="/", force_new=True),
        "description": Attr("string", force_new=True),
        "policy": required(json=True),
        "tags": Attr(("map", "string")),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "policy_id": computed(),
        "id": computed(),
    }
)


def create(aws: Aws, values: Values) -> Values:
    """Create the managed policy."""
    name = values.get("name") or generated_name(values.get("name_prefix") or "terraform-")
    policy = aws.client("iam").create_policy(
        **drop_none(
            PolicyName=name,
            Path=values.get("path"),
            PolicyDocument=values["policy"],
            Description=values.get("description"),
            Tags=tags_list(values.get("tags")),
        )
    )["Policy"]
    return {
        **values,
        "name": name,
        "arn": policy["Arn"],
        "policy_id": policy["PolicyId"],
        "id": policy["Arn"],
        "tags_all": values.get("tags") or {},
    }


def _old_versions(aws: Aws, arn: str) -> list[str]:
    versions = aws.client("iam").list_policy_versions(PolicyArn=arn)["Versions"]
    return [v["VersionId"] for v in versions if not v["IsDefaultVersion"]]


def update(aws: Aws, old: Values, new: Values) -> Values:
    """A new default version; the oldest is deleted when five exist."""
    iam = aws.client("iam")
    others = _old_versions(aws, old["arn"])
    if len(others) >= 4 and old.get("policy") != new.get("policy"):
        oldest = min(others, key=lambda v: int(v.lstrip("v") or 0))
        iam.delete_policy_version(PolicyArn=old["arn"], VersionId=oldest)
    if old.get("policy") != new.get("policy"):
        iam.create_policy_version(PolicyArn=old["arn"], PolicyDocument=new["policy"], SetAsDefault=True)
    added, removed = tag_changes(old, new)
    if added:
        iam.tag_policy(PolicyArn=old["arn"], Tags=tags_list(added))
    if removed:
        iam.untag_policy(PolicyArn=old["arn"], TagKeys=removed)
    keep = {k: old[k] for k in ("name", "arn", "policy_id", "id")}
    return {**new, **keep, "tags_all": new.get("tags") or {}}


def delete(aws: Aws, values: Values) -> None:
    """Delete the non-default versions, then the policy."""
    iam = aws.client("iam")
    for version in _old_versions(aws, values["arn"]):
        iam.delete_policy_version(PolicyArn=values["arn"], VersionId=version)
    iam.delete_policy(PolicyArn=values["arn"])


def exists(aws: Aws, values: Values) -> bool:
    """GetPolicy finds it."""
    return found(lambda: aws.client("iam").get_policy(PolicyArn=values["arn"]))


TYPE = ResourceType("aws_iam_policy", SCHEMA, create, delete, update, exists)
