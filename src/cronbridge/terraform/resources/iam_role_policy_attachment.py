"""aws_iam_role_policy_attachment: AttachRolePolicy and DetachRolePolicy."""

from __future__ import annotations

from cronbridge.terraform.resources.base import Aws, ResourceType, Values
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


TYPE = ResourceType("aws_iam_role_policy_attachment", SCHEMA, create, delete)
