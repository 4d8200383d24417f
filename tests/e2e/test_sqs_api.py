"""Amazon SQS through boto3 against a real server: queue URLs, messages, digests, batches, errors as boto3 sees them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.sqs.models import Message as MotoMessage

ACCOUNT = "000000000000"


@pytest.fixture
def sqs(cronbridge_server: Any) -> Any:
    return cronbridge_server.client("sqs")


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="jobs")["QueueUrl"])


def error(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return dict(exc.value.response["Error"])


def independent_md5(attributes: dict[str, dict[str, Any]]) -> str:
    message = MotoMessage("id", "body")
    message.message_attributes = attributes
    return message.attribute_md5


ATTRIBUTES: dict[str, dict[str, Any]] = {
    "ERROR_CODE": {"DataType": "String", "StringValue": "Throttled"},
    "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": "3"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
}


def test_a_queue_url_is_host_account_and_name(cronbridge_server: Any, sqs: Any, queue_url: str) -> None:
    assert queue_url == f"{cronbridge_server.endpoint}/{ACCOUNT}/jobs"
    assert sqs.get_queue_url(QueueName="jobs")["QueueUrl"] == queue_url


def test_creating_the_same_queue_again_returns_its_url_and_other_attributes_are_queue_name_exists(
    sqs: Any, queue_url: str,
) -> None:
    assert sqs.create_queue(QueueName="jobs")["QueueUrl"] == queue_url
    with pytest.raises(sqs.exceptions.QueueNameExists) as exc:
        sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "5"})
    assert error(exc)["Code"] == "QueueAlreadyExists"


def test_an_unknown_queue_surfaces_as_queue_does_not_exist(sqs: Any) -> None:
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as exc:
        sqs.get_queue_url(QueueName="missing")
    assert error(exc)["Message"] == "The specified queue does not exist."
    assert error(exc)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert error(exc)["QueryErrorCode"] == "QueueDoesNotExist"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_queue_attributes_carry_the_arn_and_counts(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="one")
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
    assert attributes["ApproximateNumberOfMessages"] == "1"
    assert attributes["VisibilityTimeout"] == "30"


def test_set_queue_attributes_changes_what_get_reports(sqs: Any, queue_url: str) -> None:
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "120"})
    got = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert got == {"VisibilityTimeout": "120"}
    with pytest.raises(ClientError) as exc:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "99999"})
    assert error(exc)["Code"] == "InvalidAttributeValue"


def test_a_message_round_trips_with_its_attributes_and_correct_digests(sqs: Any, queue_url: str) -> None:
    sent = sqs.send_message(QueueUrl=queue_url, MessageBody="héllo ✓", MessageAttributes=ATTRIBUTES)
    assert sent["MD5OfMessageBody"] == hashlib.md5("héllo ✓".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == independent_md5(ATTRIBUTES)
    [message] = sqs.receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"],
    )["Messages"]
    assert message["MessageId"] == sent["MessageId"] and message["Body"] == "héllo ✓"
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MessageAttributes"] == ATTRIBUTES
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(message["Attributes"]["SentTimestamp"]) > 1_600_000_000_000


def test_only_the_requested_attributes_come_back(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="b", MessageAttributes=ATTRIBUTES)
    [message] = sqs.receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["ERROR_CODE"], MessageSystemAttributeNames=["SentTimestamp"],
    )["Messages"]
    assert list(message["MessageAttributes"]) == ["ERROR_CODE"]
    assert message["MD5OfMessageAttributes"] == independent_md5({"ERROR_CODE": ATTRIBUTES["ERROR_CODE"]})
    assert list(message["Attributes"]) == ["SentTimestamp"]


def test_attribute_names_takes_message_system_attributes_as_sqs_documents(sqs: Any, queue_url: str) -> None:
    """The deprecated AttributeNames still asks for SentTimestamp and the like (the model types it as queue
    attributes; SQS's documentation lists the message's)."""
    sqs.send_message(QueueUrl=queue_url, MessageBody="b")
    [message] = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["SentTimestamp", "SenderId"])["Messages"]
    assert sorted(message["Attributes"]) == ["SenderId", "SentTimestamp"]


def test_a_deleted_message_is_gone_and_an_invalid_receipt_is_rejected(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="m")
    [message] = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)["Messages"]
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle="not-a-handle")


def test_a_received_message_is_hidden_until_its_visibility_changes(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="m")
    [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    [again] = sqs.receive_message(QueueUrl=queue_url, MessageSystemAttributeNames=["ApproximateReceiveCount"])[
        "Messages"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_too_many_messages_asked_for_is_invalid_parameter_value(sqs: Any, queue_url: str) -> None:
    with pytest.raises(ClientError) as exc:
        sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=11)
    assert error(exc)["Code"] == "InvalidParameterValue"
    assert "Must be between 1 and 10" in error(exc)["Message"]


def test_a_batch_send_reports_each_entry(sqs: Any, queue_url: str) -> None:
    result = sqs.send_message_batch(QueueUrl=queue_url, Entries=[
        {"Id": "ok", "MessageBody": "fine"},
        {"Id": "bad", "MessageBody": "x", "DelaySeconds": 901},
    ])
    assert [s["Id"] for s in result["Successful"]] == ["ok"]
    assert result["Successful"][0]["MD5OfMessageBody"] == hashlib.md5(b"fine").hexdigest()
    failed = [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]]
    assert failed == [("bad", "InvalidParameterValue", True)]


def test_batch_entry_ids_must_be_distinct(sqs: Any, queue_url: str) -> None:
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": "a", "MessageBody": "1"}] * 2)


def test_a_batch_delete_removes_every_received_message(sqs: Any, queue_url: str) -> None:
    sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in messages) == ["0", "1", "2"]
    result = sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
        {"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages
    ])
    assert len(result["Successful"]) == 3 and result["Failed"] == []
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_queues_list_by_prefix_with_pagination(cronbridge_server: Any, sqs: Any) -> None:
    for name in ("dlq-a", "dlq-b", "dlq-c", "other"):
        sqs.create_queue(QueueName=name)
    first = sqs.list_queues(QueueNamePrefix="dlq-", MaxResults=2)
    assert [u.rsplit("/", 1)[1] for u in first["QueueUrls"]] == ["dlq-a", "dlq-b"]
    rest = sqs.list_queues(QueueNamePrefix="dlq-", MaxResults=2, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in rest["QueueUrls"]] == ["dlq-c"] and "NextToken" not in rest


def test_a_redrive_policy_moves_poison_messages_to_the_dead_letter_queue(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})
    source = sqs.create_queue(QueueName="source", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    sqs.send_message(QueueUrl=source, MessageBody="poison")
    assert len(sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]) == 1
    assert sqs.receive_message(QueueUrl=source).get("Messages", []) == []
    [moved] = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["DeadLetterQueueSourceArn"])["Messages"]
    assert moved["Body"] == "poison" and moved["Attributes"]["DeadLetterQueueSourceArn"].endswith(":source")


def test_a_fifo_queue_returns_sequence_numbers_and_drops_duplicates(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    first = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    again = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    assert again["MessageId"] == first["MessageId"] and len(first["SequenceNumber"]) == 20
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == ["a"]


def test_purge_and_delete_queue(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="m")
    sqs.purge_queue(QueueUrl=queue_url)
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=queue_url)
    sqs.delete_queue(QueueUrl=queue_url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=queue_url, MessageBody="m")


def test_messages_survive_a_server_restart(server_factory: Any) -> None:
    server = server_factory()
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="durable")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="kept")
    server.restart()
    sqs = server.client("sqs")
    [message] = sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName="durable")["QueueUrl"])["Messages"]
    assert message["MessageId"] == sent["MessageId"]


def aws_cli(server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    command = ["aws", "--endpoint-url", server.endpoint, "--output", "json", "sqs", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_sends_and_receives(cronbridge_server: Any) -> None:
    url = json.loads(aws_cli(cronbridge_server, "create-queue", "--queue-name", "cli").stdout)["QueueUrl"]
    sent = aws_cli(cronbridge_server, "send-message", "--queue-url", url, "--message-body", "hi")
    assert sent.returncode == 0, sent.stderr
    received = json.loads(aws_cli(cronbridge_server, "receive-message", "--queue-url", url).stdout)
    assert [m["Body"] for m in received["Messages"]] == ["hi"]
    missing = aws_cli(cronbridge_server, "get-queue-url", "--queue-name", "nope")
    assert missing.returncode == 254 or missing.returncode == 255
    assert "The specified queue does not exist." in missing.stderr
