"""Amazon SQS over awsJson1.0 (AmazonSQS.*): queue URLs, message attributes and digests on the wire."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any
from urllib.parse import urlsplit

from cronbridge.api.context import RequestContext
from cronbridge.api.protocols.json import JsonService
from cronbridge.model.sqs import Message, MessageAttribute, OutgoingMessage, Queue, ReceiveRequest, Sent
from cronbridge.sqs import rules
from cronbridge.sqs.digest import md5_of_attributes, md5_of_body
from cronbridge.sqs.errors import BatchRequestTooLong, InvalidParameterValue, QueueDoesNotExist, SqsError
from cronbridge.sqs.service import SqsService

BATCH_LIMIT = 1_048_576


def _sqs(ctx: RequestContext) -> SqsService:
    service: SqsService = ctx.system.sqs.at(ctx.scope)  # the request's account and Region
    return service


def host_of(ctx: RequestContext) -> str:
    """host:port for queue URLs: the request's Host header when the api passed it, else the server's address."""
    host = (ctx.extra or {}).get("host")
    if host:
        return str(host)
    settings = ctx.system.settings
    name = settings.host if settings.host not in ("", "0.0.0.0", "::") else "localhost"
    return f"{name}:{settings.port}"


def queue_url(ctx: RequestContext, name: str) -> str:
    return f"http://{host_of(ctx)}/{ctx.account}/{name}"


def queue_name(ctx: RequestContext, url: str) -> str:
    """The queue a QueueUrl names (any host; the path is /ACCOUNT/NAME); a bare name is accepted too."""
    parts = [p for p in (urlsplit(url).path if "://" in url else url).split("/") if p]
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[0] != ctx.account):
        raise QueueDoesNotExist()
    return parts[-1]


# queues


def create_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue = _sqs(ctx).create_queue(p["QueueName"], p.get("Attributes") or {}, p.get("tags"))
    return {"QueueUrl": queue_url(ctx, queue.name)}


def get_queue_url(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    owner = p.get("QueueOwnerAWSAccountId")
    if owner and owner != ctx.account:
        raise QueueDoesNotExist()
    return {"QueueUrl": queue_url(ctx, _sqs(ctx).queue(p["QueueName"]).name)}


def get_queue_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    attributes = _sqs(ctx).queue_attributes(queue_name(ctx, p["QueueUrl"]), p.get("AttributeNames") or [])
    return {"Attributes": attributes} if attributes else {}


def set_queue_attributes(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _sqs(ctx).set_queue_attributes(queue_name(ctx, p["QueueUrl"]), p["Attributes"])
    return {}


def list_queues(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = p.get("MaxResults")
    rules.check_range("MaxResults", limit, 1, 1000)
    after = _untoken(p.get("NextToken"))
    queues = _sqs(ctx).list_queues(p.get("QueueNamePrefix") or "", after, (limit or 1000) + 1)
    out: dict[str, Any] = {"QueueUrls": [queue_url(ctx, q.name) for q in queues[: limit or 1000]]}
    if limit and len(queues) > limit:
        out["NextToken"] = base64.b64encode(queues[limit - 1].name.encode()).decode()
    return out


def _untoken(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.b64decode(token.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidParameterValue("Invalid NextToken value.") from exc


def delete_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _sqs(ctx).delete_queue(queue_name(ctx, p["QueueUrl"]))
    return {}


def purge_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _sqs(ctx).purge_queue(queue_name(ctx, p["QueueUrl"]))
    return {}


def tag_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _retag(ctx, p["QueueUrl"], lambda tags: {**tags, **p["Tags"]})
    return {}


def untag_queue(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _retag(ctx, p["QueueUrl"], lambda tags: {k: v for k, v in tags.items() if k not in set(p["TagKeys"])})
    return {}


def _retag(ctx: RequestContext, url: str, change: Any) -> None:
    service = _sqs(ctx)
    name = queue_name(ctx, url)
    with service.locked(name):
        queue = service.queue(name)
        service.store.put_queue(dataclasses.replace(queue, tags=change(queue.tags)))


def list_queue_tags(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    queue: Queue = _sqs(ctx).queue(queue_name(ctx, p["QueueUrl"]))
    return {"Tags": queue.tags} if queue.tags else {}


# messages in


def attribute_from_wire(name: str, value: dict[str, Any]) -> MessageAttribute:
    binary = value.get("BinaryValue")
    try:
        data = None if binary is None else base64.b64decode(binary, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterValue(f"The message attribute '{name}' has an invalid binary value.") from exc
    return MessageAttribute(value.get("DataType") or "", value.get("StringValue"), data)


def attributes_from_wire(values: dict[str, Any] | None) -> dict[str, MessageAttribute]:
    return {name: attribute_from_wire(name, value) for name, value in (values or {}).items()}


def outgoing(p: dict[str, Any]) -> OutgoingMessage:
    return OutgoingMessage(
        body=p.get("MessageBody") or "", attributes=attributes_from_wire(p.get("MessageAttributes")),
        system_attributes=attributes_from_wire(p.get("MessageSystemAttributes")),
        delay_seconds=p.get("DelaySeconds"), group_id=p.get("MessageGroupId"),
        dedup_id=p.get("MessageDeduplicationId"),
    )


def sent_to_wire(sent: Sent) -> dict[str, Any]:
    out = {"MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_of_body}
    optional = {
        "MD5OfMessageAttributes": sent.md5_of_attributes,
        "MD5OfMessageSystemAttributes": sent.md5_of_system_attributes,
        "SequenceNumber": sent.sequence_number,
    }
    return {**out, **{k: v for k, v in optional.items() if v is not None}}


def send_message(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    sent = _sqs(ctx).send(queue_name(ctx, p["QueueUrl"]), outgoing(p), ctx.access_key)
    return sent_to_wire(sent)


def send_message_batch(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = queue_name(ctx, p["QueueUrl"])
    entries = p["Entries"]
    rules.check_batch_ids([e["Id"] for e in entries], "SendMessageBatchRequestEntry")
    messages = [outgoing(e) for e in entries]
    if sum(rules.message_size(m.body, m.attributes) for m in messages) > BATCH_LIMIT:
        raise BatchRequestTooLong(f"Batch requests cannot be longer than {BATCH_LIMIT} bytes.")
    _sqs(ctx).queue(name)
    return _batch(entries, lambda i: {"Id": entries[i]["Id"], **sent_to_wire(
        _sqs(ctx).send(name, messages[i], ctx.access_key))})


def _batch(entries: list[dict[str, Any]], run: Any) -> dict[str, Any]:
    """Run each entry; a per-entry SQS fault becomes a Failed entry, anything else fails the request."""
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        try:
            successful.append(run(index))
        except SqsError as err:
            failed.append({"Id": entry["Id"], "SenderFault": err.status < 500, "Code": err.query_code,
                           "Message": err.message})
    return {"Successful": successful, "Failed": failed}


# messages out


def receive_message(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage; an empty queue with WaitTimeSeconds (or ReceiveMessageWaitTimeSeconds) asks to wait: the long
    poll middleware waits without a thread and runs the request again (api/long_poll.py)."""
    request = ReceiveRequest(
        max_messages=1 if p.get("MaxNumberOfMessages") is None else p["MaxNumberOfMessages"],
        visibility_timeout=p.get("VisibilityTimeout"), wait_seconds=p.get("WaitTimeSeconds"),
    )
    service = _sqs(ctx)
    name = queue_name(ctx, p["QueueUrl"])
    messages = service.receive(name, request)
    poll = ctx.long_poll
    if not messages and poll is not None and poll.ask(service.arn(name), service.wait_seconds(name, request)):
        return {"Messages": []}  # not sent: the middleware waits for a message, then runs this request again
    system_names = [*(p.get("AttributeNames") or []), *(p.get("MessageSystemAttributeNames") or [])]
    user_names = p.get("MessageAttributeNames") or []
    fifo = service.queue(name).is_fifo if messages else False
    return {"Messages": [message_to_wire(m, system_names, user_names, fifo) for m in messages]}


def message_to_wire(message: Message, system_names: list[str], user_names: list[str], fifo: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "MessageId": message.message_id, "ReceiptHandle": message.receipt,
        "MD5OfBody": md5_of_body(message.body), "Body": message.body,
    }
    system = system_attributes(message, fifo)
    chosen = {n: system[n] for n in rules.wanted(system_names, system)}
    if chosen:
        out["Attributes"] = chosen
    user = {n: message.attributes[n] for n in rules.wanted(user_names, message.attributes)}
    if user:
        out["MessageAttributes"] = {n: attribute_to_wire(a) for n, a in user.items()}
        out["MD5OfMessageAttributes"] = md5_of_attributes(user)
    return out


def system_attributes(message: Message, fifo: bool) -> dict[str, str]:
    """What MessageSystemAttributeNames can ask for (epoch milliseconds for the timestamps)."""
    values: dict[str, str | None] = {
        "SenderId": message.sender_id,
        "SentTimestamp": str(int(message.sent_at * 1000)),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(int((message.first_received_at or message.sent_at) * 1000)),
        "AWSTraceHeader": _trace_header(message),
        "DeadLetterQueueSourceArn": message.dead_letter_source,
        "MessageGroupId": message.group_id,
        "MessageDeduplicationId": message.dedup_id if fifo else None,
        "SequenceNumber": message.sequence_number if fifo else None,
    }
    return {k: v for k, v in values.items() if v is not None}


def _trace_header(message: Message) -> str | None:
    trace = message.system_attributes.get("AWSTraceHeader")
    return None if trace is None else trace.string_value


def attribute_to_wire(attribute: MessageAttribute) -> dict[str, Any]:
    if attribute.binary_value is not None:
        return {"DataType": attribute.data_type, "BinaryValue": base64.b64encode(attribute.binary_value).decode()}
    return {"DataType": attribute.data_type, "StringValue": attribute.string_value}


def delete_message(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _sqs(ctx).delete_message(queue_name(ctx, p["QueueUrl"]), p["ReceiptHandle"])
    return {}


def delete_message_batch(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = queue_name(ctx, p["QueueUrl"])
    entries = p["Entries"]
    rules.check_batch_ids([e["Id"] for e in entries], "DeleteMessageBatchRequestEntry")
    _sqs(ctx).queue(name)

    def run(i: int) -> dict[str, Any]:
        _sqs(ctx).delete_message(name, entries[i]["ReceiptHandle"])
        return {"Id": entries[i]["Id"]}

    return _batch(entries, run)


def change_message_visibility(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    _sqs(ctx).change_visibility(queue_name(ctx, p["QueueUrl"]), p["ReceiptHandle"], p["VisibilityTimeout"])
    return {}


def change_message_visibility_batch(ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    name = queue_name(ctx, p["QueueUrl"])
    entries = p["Entries"]
    rules.check_batch_ids([e["Id"] for e in entries], "ChangeMessageVisibilityBatchRequestEntry")
    _sqs(ctx).queue(name)

    def run(i: int) -> dict[str, Any]:
        entry = entries[i]
        _sqs(ctx).change_visibility(name, entry["ReceiptHandle"], entry.get("VisibilityTimeout") or 0)
        return {"Id": entry["Id"]}

    return _batch(entries, run)


SERVICE = JsonService(
    target_prefix="AmazonSQS",
    model="sqs",
    json_version="1.0",
    operations={
        "CreateQueue": create_queue,
        "GetQueueUrl": get_queue_url,
        "GetQueueAttributes": get_queue_attributes,
        "SetQueueAttributes": set_queue_attributes,
        "ListQueues": list_queues,
        "DeleteQueue": delete_queue,
        "PurgeQueue": purge_queue,
        "TagQueue": tag_queue,
        "UntagQueue": untag_queue,
        "ListQueueTags": list_queue_tags,
        "SendMessage": send_message,
        "SendMessageBatch": send_message_batch,
        "ReceiveMessage": receive_message,
        "DeleteMessage": delete_message,
        "DeleteMessageBatch": delete_message_batch,
        "ChangeMessageVisibility": change_message_visibility,
        "ChangeMessageVisibilityBatch": change_message_visibility_batch,
    },
    query_compatible=True,
)
