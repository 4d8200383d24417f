"""aws_iam_role_policy_attachment: AttachRolePolicy and DetachRolePolicy."""

from __future__ import annotations

from cronbridge.terraform.resources.base import NOT_FOUND, Aws, ResourceType, Values, error_code
from cronbridge.terraform.schema import BlockSpec, computed, required

SCHEMA = BlockSpec(
    attrs={
        "role": required(force_new=True),
        "policy_arn": required(force_new=True),
        "id": computed(),
    }
)


def create(aws: Aws, values: Values) -> Values:
    """Attach the managed policy to the role."""
    aws.client("iam").attach_role_policy(RoleName=values["role"], PolicyArn=values["policy_arn"])
    return {**values, "id": f"{values['role']}-{values['policy_arn'].rsplit('/', 1)[-1]}"}


def delete(aws: Aws, values: Values) -> None:
    """Detach it."""
    aws.client("iam").detach_role_policy(RoleName=values["role"], PolicyArn=values["policy_arn"])


def exists(aws: Aws, values: Values) -> bool:
    """The role lists the policy among its attached ones (a missing role: gone)."""
    iam = aws.client("iam")
    try:
        attached = iam.list_attached_role_policies(RoleName=values["role"])["AttachedPolicies"]
    except Exception as exc:
        if error_code(exc) in NOT_FOUND:
            return False
        raise
    return any(p["PolicyArn"] == values["policy_arn"] for p in attached)


TYPE = ResourceType("aws_iam_role_policy_attachment", SCHEMA, create, delete, None, exists)
