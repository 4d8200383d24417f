"""aws_sqs_queue: CreateQueue, SetQueueAttributes, DeleteQueue."""

from __future__ import annotations

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

_WIRE = {
    "visibility_timeout_seconds": "VisibilityTimeout",
    "message_retention_seconds": "MessageRetentionPeriod",
    "delay_seconds": "DelaySeconds",
    "max_message_size": "MaximumMessageSize",
    "receive_wait_time_seconds": "ReceiveMessageWaitTimeSeconds",
    "policy": "Policy",
}

SCHEMA = BlockSpec(
    attrs={
        "name": optional_computed(force_new=True),
        "fifo_queue": Attr("bool", default=False, force_new=True),
        "visibility_timeout_seconds": Attr("number", default=30),
        "message_retention_seconds": Attr("number", default=345600),
        "delay_seconds": Attr("number", default=0),
        "max_message_size": Attr("number", default=262144),
        "receive_wait_time_seconds": Attr("number", default=0),
        "policy": Attr("string", json=True),
        "tags": Attr(("map", "string")),
        "tags_all": computed(("map", "string")),
        "arn": computed(),
        "url": computed(),
        "id": computed(),
    }
)


def _attributes(values: Values) -> dict[str, str]:
    out = {wire: str(values[name]) for name, wire in _WIRE.items() if values.get(name) is not None}
    if values.get("fifo_queue"):
        out["FifoQueue"] = "true"
    return out


def create(aws: Aws, values: Values) -> Values:
    """Create the queue and read its ARN."""
    sqs = aws.client("sqs")
    name = values.get("name") or generated_name() + (".fifo" if values.get("fifo_queue") else "")
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
    attributes = {k: v for k, v in _attributes(new).items() if k != "FifoQueue"}
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
