"""SqsService on a real SQLite file with a fake clock: queues, visibility, redrive, FIFO, the dead-letter path."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from cronbridge.clock import FakeClock
from cronbridge.errors import NotFound
from cronbridge.model.sqs import MessageAttribute, OutgoingMessage, ReceiveRequest
from cronbridge.scope import HOME
from cronbridge.sqs import SqsService
from cronbridge.sqs.arrivals import Arrivals
from cronbridge.sqs.errors import (
    InvalidParameterValue,
    MessageNotInflight,
    MissingParameter,
    PurgeQueueInProgress,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
)
from cronbridge.store.database import Database, open_database

ARN = "arn:aws:sqs:us-east-1:000000000000:"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def db(database_location: str) -> Iterator[Database]:
    database = open_database(database_location)  # both engines
    yield database
    database.close()


@pytest.fixture
def sqs(db: Database, clock: FakeClock) -> SqsService:
    return SqsService(db, clock, HOME, Arrivals())


def send(sqs: SqsService, queue: str, body: str, **kwargs: object) -> str:
    return sqs.send(queue, OutgoingMessage(body, **kwargs)).message_id  # type: ignore[arg-type]


def receive(sqs: SqsService, queue: str, count: int = 10, visibility: int | None = None) -> list[str]:
    return [m.body for m in sqs.receive(queue, ReceiveRequest(count, visibility))]


def test_creating_a_queue_twice_with_the_same_attributes_returns_the_same_queue(sqs: SqsService) -> None:
    first = sqs.create_queue("q", {"VisibilityTimeout": "60"})
    assert sqs.create_queue("q", {"VisibilityTimeout": "60"}) == first
    assert sqs.create_queue("q", {}) == first
    assert sqs.create_queue("q", {"FifoQueue": "false"}) == first
    assert first.arn == ARN + "q"


def test_creating_a_queue_with_other_attribute_values_is_queue_name_exists(sqs: SqsService) -> None:
    sqs.create_queue("q", {"VisibilityTimeout": "60"})
    with pytest.raises(QueueNameExists, match="VisibilityTimeout"):
        sqs.create_queue("q", {"VisibilityTimeout": "30"})


def test_an_unknown_queue_is_queue_does_not_exist_which_is_a_not_found(sqs: SqsService) -> None:
    with pytest.raises(QueueDoesNotExist) as exc:
        sqs.queue("nope")
    assert isinstance(exc.value, NotFound)
    assert exc.value.message == "The specified queue does not exist."


def test_queue_attributes_report_the_arn_defaults_and_message_counts(sqs: SqsService, clock: FakeClock) -> None:
    sqs.create_queue("q", {})
    send(sqs, "q", "visible")
    send(sqs, "q", "delayed", delay_seconds=60)
    send(sqs, "q", "taken")
    receive(sqs, "q", 1)
    attributes = sqs.queue_attributes("q", ["All"])
    assert attributes["QueueArn"] == ARN + "q"
    assert attributes["VisibilityTimeout"] == "30" and attributes["CreatedTimestamp"] == str(int(clock.now()))
    counts = [attributes[f"ApproximateNumberOfMessages{k}"] for k in ("", "NotVisible", "Delayed")]
    assert counts == ["1", "1", "1"]
    assert sqs.queue_attributes("q", ["QueueArn"]) == {"QueueArn": ARN + "q"}
    assert sqs.queue_attributes("q", []) == {}


def test_a_received_message_stays_hidden_for_the_visibility_timeout(sqs: SqsService, clock: FakeClock) -> None:
    sqs.create_queue("q", {"VisibilityTimeout": "10"})
    send(sqs, "q", "m")
    assert receive(sqs, "q") == ["m"]
    assert receive(sqs, "q") == []
    clock.advance(9.9)
    assert receive(sqs, "q") == []
    clock.advance(0.1)
    [again] = sqs.receive("q", ReceiveRequest(1))
    assert again.receive_count == 2 and again.first_received_at == clock.now() - 10


def test_messages_come_out_in_send_order_at_most_max_at_a_time(sqs: SqsService) -> None:
    sqs.create_queue("q", {})
    for i in range(12):
        send(sqs, "q", f"m{i}")
    assert receive(sqs, "q", 10) == [f"m{i}" for i in range(10)]
    assert receive(sqs, "q", 10) == ["m10", "m11"]


@pytest.mark.parametrize(
    "request_", [ReceiveRequest(0), ReceiveRequest(11), ReceiveRequest(1, 43_201), ReceiveRequest(1, None, 21)]
)
def test_receive_options_out_of_range_are_invalid(sqs: SqsService, request_: ReceiveRequest) -> None:
    sqs.create_queue("q", {})
    with pytest.raises(InvalidParameterValue, match="is invalid. Reason: Must be between"):
        sqs.receive("q", request_)


def test_deleting_with_the_latest_receipt_removes_the_message(sqs: SqsService, clock: FakeClock) -> None:
    sqs.create_queue("q", {"VisibilityTimeout": "5"})
    send(sqs, "q", "m")
    [old] = sqs.receive("q", ReceiveRequest())
    clock.advance(5)
    [new] = sqs.receive("q", ReceiveRequest())
    assert old.receipt != new.receipt
    assert sqs.delete_message("q", old.receipt or "") is False
    assert sqs.delete_message("q", new.receipt or "") is True
    clock.advance(60)
    assert receive(sqs, "q") == []
    assert sqs.delete_message("q", new.receipt or "") is False


def test_a_receipt_we_never_issued_is_invalid(sqs: SqsService) -> None:
    sqs.create_queue("q", {})
    with pytest.raises(ReceiptHandleIsInvalid, match='receipt handle "garbage" is not a valid receipt handle.'):
        sqs.delete_message("q", "garbage")


def test_changing_visibility_to_zero_makes_a_message_visible_at_once(sqs: SqsService) -> None:
    sqs.create_queue("q", {})
    send(sqs, "q", "m")
    [message] = sqs.receive("q", ReceiveRequest())
    sqs.change_visibility("q", message.receipt or "", 0)
    assert receive(sqs, "q") == ["m"]


def test_changing_visibility_of_a_message_not_in_flight_is_message_not_inflight(
    sqs: SqsService, clock: FakeClock,
) -> None:
    sqs.create_queue("q", {"VisibilityTimeout": "5"})
    send(sqs, "q", "m")
    [message] = sqs.receive("q", ReceiveRequest())
    clock.advance(6)
    with pytest.raises(MessageNotInflight):
        sqs.change_visibility("q", message.receipt or "", 30)


def test_delay_seconds_hold_a_message_back(sqs: SqsService, clock: FakeClock) -> None:
    sqs.create_queue("q", {"DelaySeconds": "20"})
    send(sqs, "q", "queue-delay")
    send(sqs, "q", "no-delay", delay_seconds=0)
    assert receive(sqs, "q") == ["no-delay"]
    clock.advance(20)
    assert receive(sqs, "q") == ["queue-delay"]


def test_messages_older_than_the_retention_period_are_dropped(sqs: SqsService, clock: FakeClock) -> None:
    sqs.create_queue("q", {"MessageRetentionPeriod": "60"})
    send(sqs, "q", "m")
    clock.advance(61)
    assert receive(sqs, "q") == []
    assert sqs.queue_attributes("q", ["ApproximateNumberOfMessages"]) == {"ApproximateNumberOfMessages": "0"}


def test_a_message_received_max_receive_count_times_moves_to_the_dead_letter_queue(
    sqs: SqsService, clock: FakeClock,
) -> None:
    sqs.create_queue("dlq", {})
    policy = json.dumps({"deadLetterTargetArn": ARN + "dlq", "maxReceiveCount": 2})
    sqs.create_queue("q", {"VisibilityTimeout": "1", "RedrivePolicy": policy})
    message_id = send(sqs, "q", "poison")
    for _ in range(2):
        assert receive(sqs, "q") == ["poison"]
        clock.advance(1)
    assert receive(sqs, "q") == []
    [moved] = sqs.receive("dlq", ReceiveRequest())
    assert (moved.message_id, moved.body, moved.dead_letter_source) == (message_id, "poison", ARN + "q")


def test_a_redrive_policy_must_name_an_existing_queue(sqs: SqsService) -> None:
    policy = json.dumps({"deadLetterTargetArn": ARN + "missing", "maxReceiveCount": 3})
    with pytest.raises(InvalidParameterValue, match="Dead letter target does not exist"):
        sqs.create_queue("q", {"RedrivePolicy": policy})


def test_purging_empties_a_queue_once_a_minute(sqs: SqsService, clock: FakeClock) -> None:
    sqs.create_queue("q", {})
    send(sqs, "q", "m")
    assert sqs.purge_queue("q") == 1
    with pytest.raises(PurgeQueueInProgress):
        sqs.purge_queue("q")
    clock.advance(60)
    assert sqs.purge_queue("q") == 0


def test_deleting_a_queue_deletes_its_messages(sqs: SqsService) -> None:
    sqs.create_queue("q", {})
    send(sqs, "q", "m")
    sqs.delete_queue("q")
    with pytest.raises(QueueDoesNotExist):
        sqs.delete_queue("q")
    sqs.create_queue("q", {})
    assert receive(sqs, "q") == []


def test_queues_list_by_prefix_in_name_order(sqs: SqsService) -> None:
    for name in ("b-1", "a-1", "b-2"):
        sqs.create_queue(name, {})
    assert [q.name for q in sqs.list_queues("b-")] == ["b-1", "b-2"]
    assert [q.name for q in sqs.list_queues("", after="a-1", limit=1)] == ["b-1"]


def test_queues_and_messages_survive_a_reopen(database_location: str, clock: FakeClock) -> None:
    db = open_database(database_location)
    sqs = SqsService(db, clock, HOME, Arrivals())
    sqs.create_queue("q", {"VisibilityTimeout": "7"})
    send(sqs, "q", "kept", attributes={"k": MessageAttribute("Binary", binary_value=b"\x00\xff")})
    db.close()
    reopened = SqsService(open_database(database_location), clock, HOME, Arrivals())
    [message] = reopened.receive("q", ReceiveRequest())
    assert message.body == "kept" and message.attributes["k"].binary_value == b"\x00\xff"
    assert reopened.queue("q").number("VisibilityTimeout") == 7


def test_a_send_returns_the_digests_of_body_and_attributes(sqs: SqsService) -> None:
    sqs.create_queue("q", {})
    sent = sqs.send("q", OutgoingMessage("hello", {"a": MessageAttribute("String", "b")}))
    assert sent.md5_of_body == "5d41402abc4b2a76b9719d911017c592"
    assert sent.md5_of_attributes is not None and sent.sequence_number is None


def test_send_by_arn_puts_dead_letter_attributes_as_strings(sqs: SqsService) -> None:
    sqs.create_queue("dlq", {})
    attributes = {"ERROR_CODE": "Throttled", "RETRY_ATTEMPTS": "3", "SCHEDULE_ARN": "arn:aws:scheduler:x", "EMPTY": ""}
    message_id = sqs.send_by_arn(ARN + "dlq", "{}", attributes)
    [message] = sqs.receive("dlq", ReceiveRequest())
    assert message.message_id == message_id
    assert {k: (a.data_type, a.string_value) for k, a in message.attributes.items()} == {
        "ERROR_CODE": ("String", "Throttled"), "RETRY_ATTEMPTS": ("String", "3"),
        "SCHEDULE_ARN": ("String", "arn:aws:scheduler:x"),
    }


def test_send_by_arn_to_a_missing_queue_is_not_found(sqs: SqsService) -> None:
    with pytest.raises(NotFound):
        sqs.send_by_arn(ARN + "missing", "{}", {})


def test_a_fifo_message_needs_a_group_and_a_deduplication_id(sqs: SqsService) -> None:
    sqs.create_queue("f.fifo", {"FifoQueue": "true"})
    with pytest.raises(MissingParameter):
        send(sqs, "f.fifo", "m")
    with pytest.raises(InvalidParameterValue, match="ContentBasedDeduplication"):
        send(sqs, "f.fifo", "m", group_id="g")


def test_a_fifo_duplicate_within_five_minutes_is_accepted_but_not_enqueued(sqs: SqsService, clock: FakeClock) -> None:
    sqs.create_queue("f.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    first = sqs.send("f.fifo", OutgoingMessage("same", group_id="g"))
    again = sqs.send("f.fifo", OutgoingMessage("same", group_id="g"))
    assert again.message_id == first.message_id and again.sequence_number == first.sequence_number
    clock.advance(300)
    assert sqs.send("f.fifo", OutgoingMessage("same", group_id="g")).message_id != first.message_id
    assert receive(sqs, "f.fifo") == ["same", "same"]


def test_a_fifo_group_with_a_message_in_flight_is_held_back(sqs: SqsService) -> None:
    sqs.create_queue("f.fifo", {"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    for body, group in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        send(sqs, "f.fifo", body, group_id=group)
    assert receive(sqs, "f.fifo", 1) == ["a1"]
    assert receive(sqs, "f.fifo", 10) == ["b1"]


def test_zero_visibility_never_returns_a_message_twice_in_one_receive(sqs: SqsService) -> None:
    sqs.create_queue("q", {})
    send(sqs, "q", "m")
    assert receive(sqs, "q", 10, visibility=0) == ["m"]
    assert receive(sqs, "q", 10, visibility=0) == ["m"]


def test_the_service_never_waits_long_polling_is_the_apis(sqs: SqsService) -> None:
    sqs.create_queue("q", {"ReceiveMessageWaitTimeSeconds": "20"})
    assert receive(sqs, "q") == []
    assert sqs.wait_seconds("q", ReceiveRequest(1)) == 20
    assert sqs.wait_seconds("q", ReceiveRequest(1, None, 3)) == 3


def test_ready_says_whether_a_message_is_receivable_now(sqs: SqsService, clock: FakeClock) -> None:
    sqs.create_queue("q", {"DelaySeconds": "5"})
    assert not sqs.ready("q")
    send(sqs, "q", "later")
    assert not sqs.ready("q")
    clock.advance(5)
    assert sqs.ready("q")
    assert receive(sqs, "q", visibility=30) == ["later"]
    assert not sqs.ready("q")
