"""PURE. SQS's constraints: queue names, queue attributes, message bodies and attributes, batches, receive options."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from cronbridge import nesting
from cronbridge.model.sqs import DEFAULT_ATTRIBUTES, FIFO_DEFAULTS, MessageAttribute
from cronbridge.sqs.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    TooManyEntriesInBatchRequest,
)

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_INVALID_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
FREE_TEXT = ("Policy", "KmsMasterKeyId", "RedriveAllowPolicy", "RedrivePolicy")
CHOICES: dict[str, tuple[str, ...]] = {
    "SqsManagedSseEnabled": ("true", "false"),
    "FifoQueue": ("true", "false"),
    "ContentBasedDeduplication": ("true", "false"),
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
READ_ONLY = (
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
)
FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
VALID_CHARACTERS = "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"


def check_queue_name(name: str, fifo: bool) -> None:
    base = name.removesuffix(".fifo") if fifo else name
    if fifo and (not name.endswith(".fifo") or not _QUEUE_NAME.fullmatch(base) or len(name) > 80):
        raise InvalidParameterValue(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
            "must end with .fifo suffix and be 1 to 80 in length."
        )
    if not fifo and not _QUEUE_NAME.fullmatch(name):
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def is_fifo_request(attributes: Mapping[str, str]) -> bool:
    """A queue is FIFO only when asked for with FifoQueue=true (a .fifo name alone is an invalid standard name)."""
    return attributes.get("FifoQueue", "false").lower() == "true"


def creation_attributes(name: str, given: Mapping[str, str]) -> dict[str, str]:
    """A new queue's attributes: the defaults with the given ones checked and laid on top."""
    fifo = is_fifo_request(given)
    check_queue_name(name, fifo)
    attributes = {**DEFAULT_ATTRIBUTES, **(FIFO_DEFAULTS if fifo else {})}
    attributes.update(checked_attributes(given, fifo))
    if not fifo:
        attributes.pop("FifoQueue", None)
    return attributes


def checked_attributes(given: Mapping[str, str], fifo: bool) -> dict[str, str]:
    """The given queue attributes with normalized values; raises InvalidAttributeName/Value."""
    return {name: _checked_value(name, value, fifo) for name, value in given.items()}


def _checked_value(name: str, value: str, fifo: bool) -> str:
    known = name in RANGES or name in FREE_TEXT or name in CHOICES
    if not known or (name in FIFO_ONLY and not fifo):
        raise InvalidAttributeName(f"Unknown Attribute {name}.")
    if name in RANGES:
        return _ranged(name, value)
    if name in CHOICES:
        return _chosen(name, value)
    if name == "RedrivePolicy" and value:
        check_redrive_policy(value)
    return value


def _ranged(name: str, value: str) -> str:
    low, high = RANGES[name]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
    return str(number)


def _chosen(name: str, value: str) -> str:
    normalized = value.lower() if CHOICES[name][0] == "true" else value
    if normalized not in CHOICES[name]:
        raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
    return normalized


def check_redrive_policy(text: str) -> tuple[str, int]:
    """(deadLetterTargetArn, maxReceiveCount) of a RedrivePolicy document; raises InvalidParameterValue."""
    reason = _redrive_problem(text)
    if reason:
        raise InvalidParameterValue(f"Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}")
    policy = nesting.loads(text)
    return str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])


def _redrive_problem(text: str) -> str | None:
    try:
        policy = nesting.loads(text)
    except ValueError:
        return "Invalid JSON."
    if not isinstance(policy, dict) or "deadLetterTargetArn" not in policy or "maxReceiveCount" not in policy:
        return "Redrive policy does not contain mandatory attribute: deadLetterTargetArn, maxReceiveCount."
    try:
        count = int(policy["maxReceiveCount"])
    except (TypeError, ValueError):
        return "Invalid value for maxReceiveCount."
    if not 1 <= count <= 1000:
        return "Invalid value for maxReceiveCount: must be between 1 and 1000."
    return None


def check_range(parameter: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. "
            f"Reason: Must be between {low} and {high}, if provided."
        )


def check_body(body: str, attributes: Mapping[str, MessageAttribute], limit: int) -> None:
    if not body:
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if _INVALID_CHARS.search(body):
        raise InvalidMessageContents(f"Invalid characters found. Valid unicode characters are {VALID_CHARACTERS}")
    if message_size(body, attributes) > limit:
        raise InvalidParameterValue(
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
        )


def message_size(body: str, attributes: Mapping[str, MessageAttribute]) -> int:
    """Bytes counted against MaximumMessageSize: the body plus every attribute's name, type and value."""
    size = len(body.encode("utf-8"))
    for name, attribute in attributes.items():
        value = attribute.binary_value or (attribute.string_value or "").encode("utf-8")
        size += len(name.encode("utf-8")) + len(attribute.data_type.encode("utf-8")) + len(value)
    return size


def check_message_attributes(attributes: Mapping[str, MessageAttribute]) -> None:
    if len(attributes) > 10:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [10]."
        )
    for name, attribute in attributes.items():
        _check_attribute_name(name)
        _check_attribute_value(name, attribute)


def _check_attribute_name(name: str) -> None:
    lowered = name.lower()
    bad = (not _ATTRIBUTE_NAME.fullmatch(name) or name.startswith(".") or name.endswith(".") or ".." in name
           or lowered.startswith(("aws.", "amazon.")))
    if bad:
        raise InvalidParameterValue(f"Message (user) attribute name '{name}' is invalid.")


def _check_attribute_value(name: str, attribute: MessageAttribute) -> None:
    kind = attribute.base_type
    if kind not in ("String", "Number", "Binary") or len(attribute.data_type) > 256:
        raise InvalidParameterValue(
            f"The type of message (user) attribute '{name}' is invalid. "
            "You must use only the following supported type prefixes: Binary, Number, String."
        )
    value = attribute.binary_value if kind == "Binary" else attribute.string_value
    if not value:
        raise InvalidParameterValue(
            f"The message (user) attribute '{name}' must contain a non-empty message attribute value "
            f"for message attribute type '{kind}'."
        )
    if kind == "Number":
        _check_number(name, str(value))


def _check_number(name: str, value: str) -> None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or abs(number) >= Decimal("1e126"):
        raise InvalidParameterValue(f"Can't cast the value of message (user) attribute '{name}' to a number.")


def check_batch_ids(ids: list[str], entry_kind: str) -> None:
    """A batch has 1 to 10 entries with distinct, well-formed ids."""
    if not ids:
        raise EmptyBatchRequest(f"There should be at least one {entry_kind} in the request.")
    if len(ids) > 10:
        raise TooManyEntriesInBatchRequest(f"Maximum number of entries per request are 10. You have sent {len(ids)}.")
    seen: set[str] = set()
    for entry_id in ids:
        if not _BATCH_ID.fullmatch(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                "It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)


def wanted(names: Iterable[str], available: Iterable[str]) -> list[str]:
    """Which of `available` the request names: exact names, All or .*, or prefixes like `foo.*`."""
    requested = list(names)
    if any(n in ("All", ".*") for n in requested):
        return list(available)
    exact = set(requested)
    prefixes = tuple(n[:-1] for n in requested if n.endswith(".*"))
    return [a for a in available if a in exact or (prefixes and a.startswith(prefixes))]
