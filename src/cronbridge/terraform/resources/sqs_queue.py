"""aws_sqs_queue: CreateQueue, SetQueueAttributes, DeleteQueue."""

from __future__ import annotations

from typing import Any

from cronbridge.terraform.resources.base import (
    Aws,
    ResourceType,
    Values,
    drop_none,
    found,
    generated_name,
    tag_changes,
)
from cronbridge.terraform.schema import Attr, BlockSpec, computed, optional_computed
from cronbridge.terraform.values import to_string

_WIRE = {
    "visibility_timeout_seconds": "VisibilityTimeout",
    "message_retention_seconds": "MessageRetentionPeriod",
    "delay_seconds": "DelaySeconds",
    "max_message_size": "MaximumMessageSize",
    "receive_wait_time_seconds": "ReceiveMessageWaitTimeSeconds",
    "policy": "Policy",
    "redrive_policy": "RedrivePolicy",
    "redrive_allow_policy": "RedriveAllowPolicy",
    "content_based_deduplication": "ContentBasedDeduplication",
    "deduplication_scope": "DeduplicationScope",
    "fifo_throughput_limit": "FifoThroughputLimit",
    "kms_master_key_id": "KmsMasterKeyId",
    "kms_data_key_reuse_period_seconds": "KmsDataKeyReusePeriodSeconds",
    "sqs_managed_sse_enabled": "SqsManagedSseEnabled",
}
_CLEARED_BY_EMPTY = ("policy", "redrive_policy", "redrive_allow_policy", "kms_master_key_id")

SCHEMA = BlockSpec(
    attrs={
        "name": optional_computed(force_new=True),
        "name_prefix": Attr("string", force_new=True),
        "fifo_queue": Attr("bool", default=False, force_new=True),
        "visibility_timeout_seconds": Attr("number", default=30),
        "message_retention_seconds": Attr("number", default=345600),
        "delay_seconds": Attr("number", default=0),
        "max_message_size": Attr("number", default=262144),
        "receive_wait_time_seconds": Attr("number", default=0),
        "policy": Attr("string", json=True),
        "redrive_policy": Attr("string", json=True),
        "redrive_allow_policy": Attr("string", json=True),
        "content_based_deduplication": Attr("bool"),
        "deduplication_scope": Attr("string"),
        "fifo_throughput_limit": Attr("string"),
        "kms_master_key_id": Attr("string"),
        "kms_data_key_reuse_period_seconds": Attr("number"),
        "sqs_managed_sse_enabled": Attr("bool"),
        "tags": Attr(("map", "string")),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "url": computed(),
        "id": computed(),
    }
)


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else to_string(value)


def _attributes(values: Values, old: Values | None = None) -> dict[str, str]:
    out = {wire: _text(values[name]) for name, wire in _WIRE.items() if values.get(name) is not None}
    if old is not None:  # an argument removed from the configuration is cleared on the queue
        out.update({_WIRE[n]: "" for n in _CLEARED_BY_EMPTY if values.get(n) is None and old.get(n) is not None})
    if values.get("fifo_queue"):
        out["FifoQueue"] = "true"
    return out


def create(aws: Aws, values: Values) -> Values:
    """Create the queue and read its ARN."""
    sqs = aws.client("sqs")
    prefix = values.get("name_prefix") or "terraform-"
    name = values.get("name") or generated_name(prefix) + (".fifo" if values.get("fifo_queue") else "")
    url = sqs.create_queue(**drop_none(QueueName=name, Attributes=_attributes(values), tags=values.get("tags")))[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {
        **values,
        "name": name,
        "arn": arn,
        "url": url,
        "id": url,
        "tags_all": values.get("tags") or {},
    }


def update(aws: Aws, old: Values, new: Values) -> Values:
    """Set the changed attributes."""
    attributes = {k: v for k, v in _attributes(new, old).items() if k != "FifoQueue"}
    sqs = aws.client("sqs")
    sqs.set_queue_attributes(QueueUrl=old["url"], Attributes=attributes)
    added, removed = tag_changes(old, new)
    if added:
        sqs.tag_queue(QueueUrl=old["url"], Tags=added)
    if removed:
        sqs.untag_queue(QueueUrl=old["url"], TagKeys=removed)
    keep = {k: old[k] for k in ("name", "arn", "url", "id")}
    return {**new, **keep, "tags_all": new.get("tags") or {}}


def delete(aws: Aws, values: Values) -> None:
    """Delete the queue."""
    aws.client("sqs").delete_queue(QueueUrl=values["url"])


def exists(aws: Aws, values: Values) -> bool:
    """GetQueueUrl finds it."""
    return found(lambda: aws.client("sqs").get_queue_url(QueueName=values["name"]))


TYPE = ResourceType("aws_sqs_queue", SCHEMA, create, delete, update, exists)
