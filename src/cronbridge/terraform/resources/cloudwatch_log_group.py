"""aws_cloudwatch_log_group: CreateLogGroup, PutRetentionPolicy, DeleteLogGroup."""

from __future__ import annotations

from cronbridge.terraform.resources.base import (
    Aws,
    ResourceType,
    Values,
    drop_none,
    generated_name,
    tag_changes,
)
from cronbridge.terraform.schema import Attr, BlockSpec, computed, optional_computed

SCHEMA = BlockSpec(
    attrs={
        "name": optional_computed(force_new=True),
        "name_prefix": Attr("string", force_new=True),
        "retention_in_days": Attr("number", default=0),
        "kms_key_id": Attr("string", force_new=True),
        "skip_destroy": Attr("bool", default=False),
        "tags": Attr(("map", "string")),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "id": computed(),
    }
)


def _retention(aws: Aws, name: str, days: int | None) -> None:
    logs = aws.client("logs")
    if days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(days))
    else:
        logs.delete_retention_policy(logGroupName=name)


def create(aws: Aws, values: Values) -> Values:
    """Create the group, then its retention policy."""
    name = values.get("name") or generated_name(values.get("name_prefix") or "terraform-")
    logs = aws.client("logs")
    logs.create_log_group(**drop_none(logGroupName=name, kmsKeyId=values.get("kms_key_id"), tags=values.get("tags")))
    if values.get("retention_in_days"):
        _retention(aws, name, values["retention_in_days"])
    found = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    arn = next(g["arn"] for g in found if g["logGroupName"] == name).removesuffix(":*")
    return {**values, "name": name, "arn": arn, "id": name, "tags_all": values.get("tags") or {}}


def update(aws: Aws, old: Values, new: Values) -> Values:
    """Change the retention in place."""
    if old.get("retention_in_days") != new.get("retention_in_days"):
        _retention(aws, old["name"], new.get("retention_in_days"))
    added, removed = tag_changes(old, new)
    logs = aws.client("logs")
    if added:
        logs.tag_log_group(logGroupName=old["name"], tags=added)
    if removed:
        logs.untag_log_group(logGroupName=old["name"], tags=removed)
    return {**new, "arn": old["arn"], "id": old["id"], "tags_all": new.get("tags") or {}}


def delete(aws: Aws, values: Values) -> None:
    """Delete the group (kept when skip_destroy is set)."""
    if not values.get("skip_destroy"):
        aws.client("logs").delete_log_group(logGroupName=values["name"])


def exists(aws: Aws, values: Values) -> bool:
    """DescribeLogGroups lists it by name."""
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=values["name"])["logGroups"]
    return any(g["logGroupName"] == values["name"] for g in groups)


TYPE = ResourceType("aws_cloudwatch_log_group", SCHEMA, create, delete, update, exists)
