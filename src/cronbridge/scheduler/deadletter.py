"""Dead-letter messages as EventBridge and EventBridge Scheduler send them to an SQS queue: body and attributes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cronbridge.events.envelopes import scheduled_event
from cronbridge.model.events import Target


class DeadLetterSink(Protocol):
    """Where dead letters go (the SQS service): raises an AwsError when the queue does not exist."""

    def send_by_arn(self, queue_arn: str, body: str, attributes: dict[str, str]) -> str: ...


@dataclass(frozen=True)
class DeadLetter:
    """One event that will not be delivered, and why."""

    source_arn: str
    is_schedule: bool
    target: Target
    scheduled_at: float
    token: str
    attempts: int
    error_code: str
    error_message: str
    exhausted: str | None = None

    def body(self) -> str:
        """A rule's scheduled event (as the target would have received it); a schedule's target Input."""
        if self.is_schedule:
            return self.target.input or "{}"
        parts = self.source_arn.split(":")
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, self.token))
        event = scheduled_event(self.source_arn, self.scheduled_at, event_id, parts[4], parts[3])
        return json.dumps(event, separators=(",", ":"))

    def attributes(self) -> dict[str, str]:
        attrs = {
            "ERROR_CODE": self.error_code,
            "ERROR_MESSAGE": self.error_message[:256],
            "EXHAUSTED_RETRY_CONDITION": self.exhausted or "",
            "RETRY_ATTEMPTS": str(max(self.attempts - 1, 0)),
            "SCHEDULED_TIME": iso(self.scheduled_at, millis=False),
            "TARGET_ARN": self.target.arn,
        }
        if self.is_schedule:
            attrs["SCHEDULE_ARN"] = self.source_arn
            attrs["EXECUTION_ID"] = execution_id(self.token, max(self.attempts, 1))
            attrs["IS_PAYLOAD_TRUNCATED"] = "false"
        else:
            attrs["RULE_ARN"] = self.source_arn
        return attrs


def execution_id(token: str, attempt: int) -> str:
    """Scheduler's execution id of one attempt of a slot (`<aws.scheduler.execution-id>`, the DLQ's EXECUTION_ID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{token}|{attempt}"))


def iso(instant: float, millis: bool = True) -> str:
    spec = "milliseconds" if millis else "seconds"
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec=spec).replace("+00:00", "Z")
