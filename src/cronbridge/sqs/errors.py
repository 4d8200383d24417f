"""SQS's errors: each carries its JSON __type (com.amazonaws.sqs#Shape) and its legacy query code."""

from __future__ import annotations

from cronbridge.errors import AwsError, NotFound


class SqsError(AwsError):
    """An SQS fault, always the sender's; `query_code` is what boto3 reports (api/ sends it as x-amzn-query-error)."""

    shape = "InvalidParameterValue"
    query_code: str | None = "InvalidParameterValue"

    def __init__(self, message: str) -> None:
        super().__init__(message, f"com.amazonaws.sqs#{self.shape}", 400)


class InvalidParameterValue(SqsError):
    """A parameter out of range or malformed."""


class MissingParameter(SqsError):
    """A required parameter is absent or empty."""

    shape = query_code = "MissingParameter"


class QueueDoesNotExist(SqsError, NotFound):
    """No queue of that name (or URL, or ARN)."""

    shape = "QueueDoesNotExist"
    query_code = "AWS.SimpleQueueService.NonExistentQueue"

    def __init__(self, message: str = "The specified queue does not exist.") -> None:
        super().__init__(message)


class QueueNameExists(SqsError):
    """CreateQueue with an existing name but other attribute values."""

    shape = "QueueNameExists"
    query_code = "QueueAlreadyExists"


class InvalidAttributeName(SqsError):
    shape = query_code = "InvalidAttributeName"


class InvalidAttributeValue(SqsError):
    shape = query_code = "InvalidAttributeValue"


class InvalidMessageContents(SqsError):
    shape = query_code = "InvalidMessageContents"


class ReceiptHandleIsInvalid(SqsError):
    shape = query_code = "ReceiptHandleIsInvalid"


class MessageNotInflight(SqsError):
    shape = "MessageNotInflight"
    query_code = "AWS.SimpleQueueService.MessageNotInflight"


class PurgeQueueInProgress(SqsError):
    shape = "PurgeQueueInProgress"
    query_code = "AWS.SimpleQueueService.PurgeQueueInProgress"


class EmptyBatchRequest(SqsError):
    shape = "EmptyBatchRequest"
    query_code = "AWS.SimpleQueueService.EmptyBatchRequest"


class TooManyEntriesInBatchRequest(SqsError):
    shape = "TooManyEntriesInBatchRequest"
    query_code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(SqsError):
    shape = "BatchEntryIdsNotDistinct"
    query_code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(SqsError):
    shape = "InvalidBatchEntryId"
    query_code = "AWS.SimpleQueueService.InvalidBatchEntryId"


class BatchRequestTooLong(SqsError):
    shape = "BatchRequestTooLong"
    query_code = "AWS.SimpleQueueService.BatchRequestTooLong"
