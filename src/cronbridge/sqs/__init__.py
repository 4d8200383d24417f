"""Amazon SQS: queues and messages, the dead-letter target of schedules and rules."""

from cronbridge.sqs.service import SqsService

__all__ = ["SqsService"]
