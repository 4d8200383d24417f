"""Amazon SQS's nouns: queues with their attributes, message attributes, messages and what a send returns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

DEFAULT_ATTRIBUTES: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
DEDUPLICATION_WINDOW = 300.0


@dataclass(frozen=True)
class Queue:
    """A queue: its configured attributes (AWS's names and string values) and bookkeeping instants (seconds)."""

    name: str
    arn: str
    attributes: dict[str, str]
    created_at: float
    modified_at: float
    tags: dict[str, str] = field(default_factory=dict)
    purged_at: float | None = None

    @property
    def is_fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"

    def number(self, name: str) -> int:
        return int(self.attributes.get(name, DEFAULT_ATTRIBUTES.get(name, "0")))

    @property
    def redrive(self) -> tuple[str, int] | None:
        """(dead-letter queue ARN, maxReceiveCount) when a RedrivePolicy is set."""
        text = self.attributes.get("RedrivePolicy")
        if not text:
            return None
        policy = json.loads(text)
        return str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])


@dataclass(frozen=True)
class MessageAttribute:
    """One message attribute: a data type (String, Number, Binary, optionally `.custom`) and its value."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None

    @property
    def base_type(self) -> str:
        return self.data_type.split(".", 1)[0]


@dataclass(frozen=True)
class OutgoingMessage:
    """A message as a producer hands it over."""

    body: str
    attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    system_attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    delay_seconds: int | None = None
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True)
class Sent:
    """What a send returns: the message id and the digests of what was stored."""

    message_id: str
    md5_of_body: str
    md5_of_attributes: str | None = None
    md5_of_system_attributes: str | None = None
    sequence_number: str | None = None


@dataclass(frozen=True)
class Message:
    """A stored message (`queue` is its queue's ARN); `receipt` is the handle of its most recent receive."""

    seq: int
    queue: str
    message_id: str
    body: str
    sent_at: float
    visible_at: float
    attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    system_attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    receive_count: int = 0
    first_received_at: float | None = None
    receipt: str | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    sender_id: str | None = None
    dead_letter_source: str | None = None

    @property
    def sequence_number(self) -> str:
        return f"{self.seq:020d}"


@dataclass(frozen=True)
class ReceiveRequest:
    """What a consumer asks for; None means the queue's own setting."""

    max_messages: int = 1
    visibility_timeout: int | None = None
    wait_seconds: int | None = None
