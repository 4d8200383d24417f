"""SQS queues, messages and FIFO deduplication records in SQLite: everything survives a restart."""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Mapping

from cronbridge.model.sqs import Message, MessageAttribute, Queue
from cronbridge.scope import Scope
from cronbridge.store.database import Database, Row


def attributes_to_json(attributes: Mapping[str, MessageAttribute]) -> str:
    out: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        item = {"data_type": attribute.data_type}
        if attribute.string_value is not None:
            item["string_value"] = attribute.string_value
        if attribute.binary_value is not None:
            item["binary_value"] = base64.b64encode(attribute.binary_value).decode()
        out[name] = item
    return json.dumps(out, separators=(",", ":"))


def attributes_from_json(text: str) -> dict[str, MessageAttribute]:
    out: dict[str, MessageAttribute] = {}
    for name, item in json.loads(text).items():
        binary = item.get("binary_value")
        out[name] = MessageAttribute(
            item["data_type"], item.get("string_value"), None if binary is None else base64.b64decode(binary)
        )
    return out


def _queue(row: Row) -> Queue:
    return Queue(
        name=row["name"], arn=row["arn"], attributes=json.loads(row["attributes"]), created_at=row["created_at"],
        modified_at=row["modified_at"], tags=json.loads(row["tags"]), purged_at=row["purged_at"],
    )


def _message(row: Row) -> Message:
    return Message(
        seq=row["seq"], queue=row["queue"], message_id=row["message_id"], body=row["body"], sent_at=row["sent_at"],
        visible_at=row["visible_at"], attributes=attributes_from_json(row["attributes"]),
        system_attributes=attributes_from_json(row["system_attributes"]), receive_count=row["receive_count"],
        first_received_at=row["first_received_at"], receipt=row["receipt"], group_id=row["group_id"],
        dedup_id=row["dedup_id"], sender_id=row["sender_id"], dead_letter_source=row["dead_letter_source"],
    )


class SqsStore:
    """Queues of one account and Region by name, and their messages in send order (messages and deduplication
    records name their queue by its ARN); callers hold `db.transaction()` for multi-step changes."""

    def __init__(self, db: Database, scope: Scope) -> None:
        self.db = db
        self.scope = scope
        self._arns = scope.arn("sqs", "")  # every queue ARN of the scope starts so: ranges over it list the scope

    # queues

    def put_queue(self, queue: Queue) -> None:
        self.db.execute(
            "INSERT INTO sqs_queues (name, arn, attributes, tags, created_at, modified_at, purged_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO UPDATE SET attributes = excluded.attributes,"
            " tags = excluded.tags, modified_at = excluded.modified_at, purged_at = excluded.purged_at",
            (queue.name, queue.arn, json.dumps(queue.attributes), json.dumps(queue.tags), queue.created_at,
             queue.modified_at, queue.purged_at),
        )

    def queue(self, name: str) -> Queue | None:
        return self.queue_by_arn(self._arns + name)

    def queue_by_arn(self, arn: str) -> Queue | None:
        row = self.db.one("SELECT * FROM sqs_queues WHERE arn = ?", (arn,))
        return None if row is None else _queue(row)

    def queues(self, prefix: str = "", after: str = "", limit: int = 1000) -> list[Queue]:
        low = self._arns + max(prefix, after)
        rows = self.db.query(
            "SELECT * FROM sqs_queues WHERE arn >= ? AND arn < ? AND arn > ? ORDER BY arn LIMIT ?",
            (low, self._arns + prefix + "\U0010ffff", self._arns + after, limit),
        )
        return [_queue(r) for r in rows]

    def delete_queue(self, name: str) -> bool:
        arn = self._arns + name
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sqs_messages WHERE queue = ?", (arn,))
            conn.execute("DELETE FROM sqs_dedup WHERE queue = ?", (arn,))
            return conn.execute("DELETE FROM sqs_queues WHERE arn = ?", (arn,)).rowcount > 0

    # messages

    def add_message(self, message: Message) -> int:
        """Store a message; returns its sequence (send order)."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO sqs_messages (queue, message_id, body, attributes, system_attributes, sent_at,"
                " visible_at, group_id, dedup_id, sender_id, dead_letter_source) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " RETURNING seq",
                (message.queue, message.message_id, message.body, attributes_to_json(message.attributes),
                 attributes_to_json(message.system_attributes), message.sent_at, message.visible_at,
                 message.group_id, message.dedup_id, message.sender_id, message.dead_letter_source),
            )
            return int(cursor.fetchone()[0])

    def message(self, message_id: str) -> Message | None:
        row = self.db.one("SELECT * FROM sqs_messages WHERE message_id = ?", (message_id,))
        return None if row is None else _message(row)

    def visible(self, queue: str, now: float, limit: int, after: int = 0,
                skip_groups: Collection[str] = ()) -> list[Message]:
        """Messages of a queue (by ARN) receivable now, oldest first, after sequence `after`, outside the given
        FIFO groups."""
        sql = "SELECT * FROM sqs_messages WHERE queue = ? AND visible_at <= ? AND seq > ?"
        params: list[object] = [queue, now, after]
        if skip_groups:
            sql += f" AND group_id NOT IN ({','.join('?' * len(skip_groups))})"
            params.extend(skip_groups)
        rows = self.db.query(sql + " ORDER BY seq LIMIT ?", [*params, limit])
        return [_message(r) for r in rows]

    def has_visible(self, queue: str, now: float, sent_after: float) -> bool:
        """Whether a message is receivable now (visible, not past the queue's retention)."""
        row = self.db.one(
            "SELECT 1 FROM sqs_messages WHERE queue = ? AND visible_at <= ? AND sent_at >= ? LIMIT 1",
            (queue, now, sent_after),
        )
        return row is not None

    def busy_groups(self, queue: str, now: float) -> set[str]:
        """FIFO message groups with a message in flight."""
        rows = self.db.query(
            "SELECT DISTINCT group_id FROM sqs_messages WHERE queue = ? AND visible_at > ? AND receive_count > 0",
            (queue, now),
        )
        return {r["group_id"] for r in rows if r["group_id"] is not None}

    def mark_received(self, message_id: str, now: float, visible_at: float, receipt: str) -> None:
        self.db.execute(
            "UPDATE sqs_messages SET receive_count = receive_count + 1, first_received_at ="
            " COALESCE(first_received_at, ?), visible_at = ?, receipt = ? WHERE message_id = ?",
            (now, visible_at, receipt, message_id),
        )

    def set_visible_at(self, message_id: str, visible_at: float) -> None:
        self.db.execute("UPDATE sqs_messages SET visible_at = ? WHERE message_id = ?", (visible_at, message_id))

    def move(self, message_id: str, queue: str, source_arn: str, now: float) -> None:
        """Hand a message to a dead-letter queue: visible at once there, keeping its id, body and attributes."""
        self.db.execute(
            "UPDATE sqs_messages SET queue = ?, dead_letter_source = ?, visible_at = ?, receipt = NULL"
            " WHERE message_id = ?",
            (queue, source_arn, now, message_id),
        )

    def delete_message(self, message_id: str) -> bool:
        return self.db.execute("DELETE FROM sqs_messages WHERE message_id = ?", (message_id,)) > 0

    def expire(self, queue: str, sent_before: float) -> int:
        return self.db.execute("DELETE FROM sqs_messages WHERE queue = ? AND sent_at < ?", (queue, sent_before))

    def purge(self, queue: str) -> int:
        return self.db.execute("DELETE FROM sqs_messages WHERE queue = ?", (queue,))

    def counts(self, queue: str, now: float) -> dict[str, int]:
        """Visible, in-flight and delayed message counts."""
        row = self.db.one(
            "SELECT SUM(CASE WHEN visible_at <= ? THEN 1 ELSE 0 END) AS visible,"
            " SUM(CASE WHEN visible_at > ? AND receive_count > 0 THEN 1 ELSE 0 END) AS in_flight,"
            " SUM(CASE WHEN visible_at > ? AND receive_count = 0 THEN 1 ELSE 0 END) AS delayed"
            " FROM sqs_messages WHERE queue = ?",
            (now, now, now, queue),
        )
        return {k: int(row[k] or 0) for k in ("visible", "in_flight", "delayed")} if row else {}

    # FIFO deduplication

    def deduplicated(self, queue: str, dedup_id: str, now: float) -> tuple[str, int] | None:
        """(message id, sequence) of a message sent with this deduplication id within the window."""
        row = self.db.one(
            "SELECT message_id, seq FROM sqs_dedup WHERE queue = ? AND dedup_id = ? AND expires_at > ?",
            (queue, dedup_id, now),
        )
        return None if row is None else (str(row["message_id"]), int(row["seq"]))

    def remember(self, queue: str, dedup_id: str, message_id: str, seq: int, expires_at: float) -> None:
        self.db.execute(
            "INSERT INTO sqs_dedup (queue, dedup_id, message_id, seq, expires_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (queue, dedup_id) DO UPDATE SET message_id = excluded.message_id, seq = excluded.seq,"
            " expires_at = excluded.expires_at",
            (queue, dedup_id, message_id, seq, expires_at),
        )

