"""aws_iam_role_policy: PutRolePolicy (create and update) and DeleteRolePolicy."""

from __future__ import annotations

from cronbridge.terraform.resources.base import Aws, ResourceType, Values, found, generated_name
from cronbridge.terraform.schema import Attr, BlockSpec, computed, optional_computed, required

SCHEMA = BlockSpec(
    attrs={
        "name": optional_computed(force_new=True),
        "name_prefix": Attr("string", force_new=True),
        "role": required(force_new=True),
        "policy": required(json=True),
        "id": computed(),
    }
)


def create(aws: Aws, values: Values) -> Values:
    """Put the inline policy."""
    name = values.get("name") or generated_name(values.get("name_prefix") or "terraform-")
    aws.client("iam").put_role_policy(RoleName=values["role"], PolicyName=name, PolicyDocument=values["policy"])
    return {**values, "name": name, "id": f"{values['role']}:{name}"}


def update(aws: Aws, old: Values, new: Values) -> Values:
    """Put the new document under the same name."""
    aws.client("iam").put_role_policy(RoleName=old["role"], PolicyName=old["name"], PolicyDocument=new["policy"])
    return {**new, "name": old["name"], "id": old["id"]}


def delete(aws: Aws, values: Values) -> None:
    """Delete the inline policy."""
    aws.client("iam").delete_role_policy(RoleName=values["role"], PolicyName=values["name"])


def exists(aws: Aws, values: Values) -> bool:
    """GetRolePolicy finds it."""
    iam = aws.client("iam")
    return found(lambda: iam.get_role_policy(RoleName=values["role"], PolicyName=values["name"]))


TYPE = ResourceType("aws_iam_role_policy", SCHEMA, create, delete, update, exists)
