"""Amazon SQS's behaviour: queues, sending, receiving with visibility timeouts, redrive, FIFO deduplication."""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import uuid
from collections.abc import Iterator, Mapping

from cronbridge import scope as scopes
from cronbridge.clock import Clock
from cronbridge.model.sqs import (
    DEDUPLICATION_WINDOW,
    DEFAULT_ATTRIBUTES,
    Message,
    MessageAttribute,
    OutgoingMessage,
    Queue,
    ReceiveRequest,
    Sent,
)
from cronbridge.scope import Regional, Scope
from cronbridge.sqs import rules
from cronbridge.sqs.arrivals import Arrivals
from cronbridge.sqs.digest import md5_of_attributes, md5_of_body
from cronbridge.sqs.errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    MessageNotInflight,
    MissingParameter,
    PurgeQueueInProgress,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
)
from cronbridge.store.database import Database
from cronbridge.store.sqs import SqsStore

PURGE_INTERVAL = 60.0
KNOWN_ATTRIBUTES = frozenset(
    {"All", *rules.RANGES, *rules.FREE_TEXT, *rules.CHOICES, *rules.READ_ONLY}
)


def new_receipt(message_id: str) -> str:
    token = f"{message_id}#{uuid.uuid4().hex}{uuid.uuid4().hex}"
    return base64.urlsafe_b64encode(token.encode()).decode()


def receipt_message_id(receipt: str) -> str:
    """The message a receipt handle names; raises ReceiptHandleIsInvalid for anything we did not issue."""
    try:
        text = base64.urlsafe_b64decode(receipt.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    message_id, _, token = text.partition("#")
    if not message_id or len(token) != 64:
        raise ReceiptHandleIsInvalid(f'The input receipt handle "{receipt}" is not a valid receipt handle.')
    return message_id


class SqsService:
    """Queues of one account and Region, kept in the database (System keeps one per Region used); every instant comes
    from the injected clock."""

    def __init__(self, db: Database, clock: Clock, scope: Scope, arrivals: Arrivals) -> None:
        self.db = db
        self.scope = scope
        self.store = SqsStore(db, scope)
        self.clock = clock
        self.account = scope.account
        self.arrivals = arrivals  # long polling: receivers waiting on a queue (by ARN, every Region), woken by a send

    def arn(self, name: str) -> str:
        return self.scope.arn("sqs", name)

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """A transaction holding the queue: its read-then-write steps (a receive taking messages, a FIFO send checking
        its deduplication id) take turns across threads and server processes."""
        with self.db.transaction():
            self.db.serialize(f"sqs.queue:{self.arn(name)}")
            yield

    # queues

    def create_queue(self, name: str, attributes: Mapping[str, str], tags: Mapping[str, str] | None = None) -> Queue:
        """A new queue, or the existing one when every given attribute matches; QueueNameExists otherwise."""
        with self.locked(name):
            existing = self.store.queue(name)
            if existing is not None:
                self._check_same(existing, attributes)
                return existing
            values = rules.creation_attributes(name, attributes)
            self._check_redrive_target(values, name.endswith(".fifo"))
            now = self.clock.now()
            queue = Queue(name, self.arn(name), values, now, now, dict(tags or {}))
            self.store.put_queue(queue)
            return queue

    def _check_same(self, existing: Queue, given: Mapping[str, str]) -> None:
        if "FifoQueue" in given and given["FifoQueue"].lower() != str(existing.is_fifo).lower():
            raise QueueNameExists(
                "A queue already exists with the same name and a different value for attribute FifoQueue"
            )
        for name, value in rules.checked_attributes(given, existing.is_fifo).items():
            if name != "FifoQueue" and existing.attributes.get(name, DEFAULT_ATTRIBUTES.get(name, "")) != value:
                raise QueueNameExists(
                    f"A queue already exists with the same name and a different value for attribute {name}"
                )

    def _check_redrive_target(self, attributes: Mapping[str, str], fifo: bool) -> None:
        text = attributes.get("RedrivePolicy")
        if not text:
            return
        target_arn, _count = rules.check_redrive_policy(text)
        target = self.store.queue_by_arn(target_arn) if self.scope.owns(target_arn) else None
        if target is None:
            reason = "Dead letter target does not exist."
        elif target.is_fifo != fifo:
            reason = "Dead-letter queue must be same type of queue as the source."
        else:
            return
        raise InvalidParameterValue(f"Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}")

    def queue(self, name: str) -> Queue:
        queue = self.store.queue(name)
        if queue is None:
            raise QueueDoesNotExist()
        return queue

    def queue_by_arn(self, queue_arn: str) -> Queue:
        queue = self.store.queue_by_arn(queue_arn)
        if queue is None:
            raise QueueDoesNotExist()
        return queue

    def list_queues(self, prefix: str = "", after: str = "", limit: int = 1000) -> list[Queue]:
        return self.store.queues(prefix, after, limit)

    def queue_attributes(self, name: str, names: list[str]) -> dict[str, str]:
        """The named attributes (or All), computed counts included."""
        unknown = [n for n in names if n not in KNOWN_ATTRIBUTES]
        if unknown:
            raise InvalidAttributeName(f"Unknown Attribute {unknown[0]}.")
        everything = self._all_attributes(self.queue(name))
        return {n: everything[n] for n in rules.wanted(names, everything)}

    def _all_attributes(self, queue: Queue) -> dict[str, str]:
        now = self.clock.now()
        self.store.expire(queue.arn, now - queue.number("MessageRetentionPeriod"))
        counts = self.store.counts(queue.arn, now)
        return {
            "QueueArn": queue.arn,
            "ApproximateNumberOfMessages": str(counts.get("visible", 0)),
            "ApproximateNumberOfMessagesNotVisible": str(counts.get("in_flight", 0)),
            "ApproximateNumberOfMessagesDelayed": str(counts.get("delayed", 0)),
            "CreatedTimestamp": str(int(queue.created_at)),
            "LastModifiedTimestamp": str(int(queue.modified_at)),
            **queue.attributes,
        }

    def set_queue_attributes(self, name: str, attributes: Mapping[str, str]) -> Queue:
        with self.locked(name):
            queue = self.queue(name)
            if "FifoQueue" in attributes:
                raise InvalidAttributeValue(
                    "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
                )
            values = {**queue.attributes, **rules.checked_attributes(attributes, queue.is_fifo)}
            if not values.get("RedrivePolicy"):
                values.pop("RedrivePolicy", None)
            self._check_redrive_target(values, queue.is_fifo)
            changed = dataclasses.replace(queue, attributes=values, modified_at=self.clock.now())
            self.store.put_queue(changed)
            return changed

    def delete_queue(self, name: str) -> None:
        if not self.store.delete_queue(name):
            raise QueueDoesNotExist()

    def purge_queue(self, name: str) -> int:
        """Delete every message; at most once a minute per queue."""
        with self.locked(name):
            queue = self.queue(name)
            now = self.clock.now()
            if queue.purged_at is not None and now - queue.purged_at < PURGE_INTERVAL:
                raise PurgeQueueInProgress(f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.")
            self.store.put_queue(dataclasses.replace(queue, purged_at=now))
            return self.store.purge(queue.arn)

    # sending

    def send(self, name: str, message: OutgoingMessage, sender_id: str | None = None) -> Sent:
        """Validate and enqueue one message; a FIFO duplicate within five minutes returns the first send."""
        queue = self.queue(name)
        self._check_message(queue, message)
        dedup_id = self._dedup_id(queue, message)
        with self.locked(name):
            now = self.clock.now()
            seen = self.store.deduplicated(queue.arn, dedup_id, now) if dedup_id else None
            if seen is not None:
                return self._sent(queue, message, seen[0], seen[1])
            stored = self._stored(queue, message, now, dedup_id, sender_id)
            seq = self.store.add_message(stored)
            if dedup_id:
                self.store.remember(queue.arn, dedup_id, stored.message_id, seq, now + DEDUPLICATION_WINDOW)
            self._arrived(queue.arn)
        return self._sent(queue, message, stored.message_id, seq)

    def _check_message(self, queue: Queue, message: OutgoingMessage) -> None:
        rules.check_message_attributes(message.attributes)
        for key, attribute in message.system_attributes.items():
            if key != "AWSTraceHeader" or attribute.data_type != "String" or not attribute.string_value:
                raise InvalidParameterValue(f"Message system attribute name '{key}' is invalid.")
        rules.check_body(message.body, message.attributes, queue.number("MaximumMessageSize"))
        rules.check_range("DelaySeconds", message.delay_seconds, 0, 900)
        if queue.is_fifo and message.delay_seconds:
            raise InvalidParameterValue(
                f"Value {message.delay_seconds} for parameter DelaySeconds is invalid. "
                "Reason: The request include parameter that is not valid for this queue type."
            )
        if queue.is_fifo and not message.group_id:
            raise MissingParameter("The request must contain the parameter MessageGroupId.")

    def _dedup_id(self, queue: Queue, message: OutgoingMessage) -> str | None:
        if not queue.is_fifo:
            if message.dedup_id:
                raise InvalidParameterValue(
                    f"Value {message.dedup_id} for parameter MessageDeduplicationId is invalid. "
                    "Reason: The request include parameter that is not valid for this queue type."
                )
            return None
        if message.dedup_id:
            return message.dedup_id
        if queue.attributes.get("ContentBasedDeduplication") == "true":
            return hashlib.sha256(message.body.encode("utf-8")).hexdigest()
        raise InvalidParameterValue(
            "The queue should either have ContentBasedDeduplication enabled "
            "or MessageDeduplicationId provided explicitly"
        )

    def _stored(self, queue: Queue, message: OutgoingMessage, now: float, dedup_id: str | None,
                sender_id: str | None) -> Message:
        delay = queue.number("DelaySeconds") if message.delay_seconds is None else message.delay_seconds
        return Message(
            seq=0, queue=queue.arn, message_id=str(uuid.uuid4()), body=message.body, sent_at=now,
            visible_at=now + delay, attributes=dict(message.attributes),
            system_attributes=dict(message.system_attributes), group_id=message.group_id, dedup_id=dedup_id,
            sender_id=sender_id or self.account,
        )

    @staticmethod
    def _sent(queue: Queue, message: OutgoingMessage, message_id: str, seq: int) -> Sent:
        return Sent(
            message_id=message_id, md5_of_body=md5_of_body(message.body),
            md5_of_attributes=md5_of_attributes(message.attributes),
            md5_of_system_attributes=md5_of_attributes(message.system_attributes),
            sequence_number=f"{seq:020d}" if queue.is_fifo else None,
        )

    def send_by_arn(self, queue_arn: str, body: str, attributes: dict[str, str]) -> str:
        """The dead-letter path: send `body` with String attributes to the queue of that ARN; returns the id.

        Raises cronbridge.errors.NotFound (QueueDoesNotExist) when there is no such queue.
        """
        queue = self.queue_by_arn(queue_arn)
        strings = {k: MessageAttribute("String", v) for k, v in attributes.items() if v}
        group = "dead-letter" if queue.is_fifo else None
        dedup = str(uuid.uuid4()) if queue.is_fifo else None
        return self.send(queue.name, OutgoingMessage(body, strings, group_id=group, dedup_id=dedup)).message_id

    # receiving

    def receive(self, name: str, request: ReceiveRequest) -> list[Message]:
        """Up to max_messages visible messages, now hidden for the visibility timeout, each with a new receipt. Never
        waits: long polling (WaitTimeSeconds) is the API's, which waits on `arrivals` between two calls."""
        rules.check_range("MaxNumberOfMessages", request.max_messages, 1, 10)
        rules.check_range("VisibilityTimeout", request.visibility_timeout, 0, 43_200)
        rules.check_range("WaitTimeSeconds", request.wait_seconds, 0, 20)
        if not self.ready(name):  # an empty queue answers from a read: no write transaction, no lock held
            return []
        with self.locked(name):
            queue = self.queue(name)
            now = self.clock.now()
            self.store.expire(queue.arn, now - queue.number("MessageRetentionPeriod"))
            timeout = request.visibility_timeout
            if timeout is None:
                timeout = queue.number("VisibilityTimeout")
            return self._take(queue, request.max_messages, now, now + timeout)

    def wait_seconds(self, name: str, request: ReceiveRequest) -> int:
        """How long a receive that found nothing waits: WaitTimeSeconds, else ReceiveMessageWaitTimeSeconds."""
        if request.wait_seconds is not None:
            return request.wait_seconds
        return int(self.queue(name).number("ReceiveMessageWaitTimeSeconds"))

    def ready(self, name: str) -> bool:
        """Whether a message of the queue is receivable now (a read; QueueDoesNotExist for an unknown queue)."""
        queue = self.queue(name)
        now = self.clock.now()
        return self.store.has_visible(queue.arn, now, now - queue.number("MessageRetentionPeriod"))

    def _arrived(self, queue_arn: str) -> None:
        """Wake the receivers waiting on the queue once the current transaction has committed."""
        self.db.after_commit(lambda: self.arrivals.notify(queue_arn))

    def _take(self, queue: Queue, wanted: int, now: float, hidden_until: float) -> list[Message]:
        busy = self.store.busy_groups(queue.arn, now) if queue.is_fifo else set()
        taken: list[Message] = []
        after = 0
        while len(taken) < wanted:
            batch = self.store.visible(queue.arn, now, wanted - len(taken), after, busy)
            if not batch:
                break
            for message in batch:
                after = message.seq
                if not self._dead_lettered(queue, message, now):
                    taken.append(self._mark(message, now, hidden_until))
        return taken

    def _mark(self, message: Message, now: float, hidden_until: float) -> Message:
        receipt = new_receipt(message.message_id)
        self.store.mark_received(message.message_id, now, hidden_until, receipt)
        return dataclasses.replace(
            message, receive_count=message.receive_count + 1, receipt=receipt, visible_at=hidden_until,
            first_received_at=message.first_received_at or now,
        )

    def _dead_lettered(self, queue: Queue, message: Message, now: float) -> bool:
        """Move a message received maxReceiveCount times to the dead-letter queue; True when moved."""
        redrive = queue.redrive
        if redrive is None or message.receive_count < redrive[1]:
            return False
        target = self.store.queue_by_arn(redrive[0])
        if target is None:
            return False
        self.store.move(message.message_id, target.arn, queue.arn, now)
        self._arrived(target.arn)
        return True

    def delete_message(self, name: str, receipt: str) -> bool:
        """Delete the message of the most recent receipt; an older receipt succeeds without deleting (as AWS)."""
        message_id = receipt_message_id(receipt)
        with self.locked(name):
            queue = self.queue(name)
            message = self.store.message(message_id)
            if message is None or message.queue != queue.arn or message.receipt != receipt:
                return False
            return self.store.delete_message(message_id)

    def change_visibility(self, name: str, receipt: str, timeout: int) -> None:
        """Hide an in-flight message for `timeout` seconds from now (0 makes it visible at once)."""
        rules.check_range("VisibilityTimeout", timeout, 0, 43_200)
        message_id = receipt_message_id(receipt)
        with self.locked(name):
            queue = self.queue(name)
            now = self.clock.now()
            message = self.store.message(message_id)
            if message is None or message.queue != queue.arn or message.receipt != receipt or message.visible_at <= now:
                raise MessageNotInflight("Message does not exist or is not available for visibility timeout change.")
            self.store.set_visible_at(message_id, now + timeout)
            if timeout == 0:
                self._arrived(queue.arn)


class QueuesByArn:
    """The dead-letter path over every Region: a message sent to a queue ARN goes to that queue's account and
    Region."""

    def __init__(self, regions: Regional[SqsService]) -> None:
        self.regions = regions

    def send_by_arn(self, queue_arn: str, body: str, attributes: dict[str, str]) -> str:
        scope = scopes.of_arn(queue_arn)
        if scope is None:
            raise QueueDoesNotExist()
        return self.regions.at(scope).send_by_arn(queue_arn, body, attributes)

    def ready(self, queue_arn: str) -> bool:
        """Whether a message of the queue of that ARN is receivable now (long polling's look at the database)."""
        scope = scopes.of_arn(queue_arn)
        if scope is None:
            raise QueueDoesNotExist()
        return self.regions.at(scope).ready(self.regions.at(scope).queue_by_arn(queue_arn).name)
