"""SQS long polling through boto3: ReceiveMessage with WaitTimeSeconds (or the queue's ReceiveMessageWaitTimeSeconds)
waits for a message and returns as soon as one is sent, by this server process or another one on the same database;
with none it answers empty after the wait; waiting receivers hold up no other request."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fixtures.server import ServerProcess


def _receive_later(server: ServerProcess, url: str, wait: int | None) -> tuple[threading.Thread, dict[str, Any]]:
    """A ReceiveMessage on its own thread (its own client): the answer and how long it took."""
    out: dict[str, Any] = {}
    sqs = server.client("sqs")

    def run() -> None:
        started = time.monotonic()
        extra = {} if wait is None else {"WaitTimeSeconds": wait}
        out["messages"] = sqs.receive_message(QueueUrl=url, **extra).get("Messages", [])
        out["took"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _until_waiting(server: ServerProcess, thread: threading.Thread, seconds: float = 1.0) -> None:
    """Give the receive time to reach the server and start waiting (it must still be waiting afterwards)."""
    time.sleep(seconds)
    assert thread.is_alive(), "the receive answered before any message was sent"


def test_a_long_poll_returns_as_soon_as_a_message_is_sent(cronbridge_server: ServerProcess) -> None:
    sqs = cronbridge_server.client("sqs")
    url = sqs.create_queue(QueueName="long")["QueueUrl"]
    thread, out = _receive_later(cronbridge_server, url, 20)
    _until_waiting(cronbridge_server, thread)
    sent = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="now")
    thread.join(25)
    assert [m["Body"] for m in out["messages"]] == ["now"]
    assert time.monotonic() - sent < 10  # woken by the send, long before the 20 s wait ran out


def test_a_long_poll_on_an_empty_queue_answers_empty_after_the_wait(cronbridge_server: ServerProcess) -> None:
    sqs = cronbridge_server.client("sqs")
    url = sqs.create_queue(QueueName="empty")["QueueUrl"]
    started = time.monotonic()
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", []) == []
    assert time.monotonic() - started >= 1.9
    started = time.monotonic()
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # no wait asked: at once (short poll)
    assert time.monotonic() - started < 1.9


def test_the_queues_receive_wait_time_applies_when_the_request_names_none(cronbridge_server: ServerProcess) -> None:
    sqs = cronbridge_server.client("sqs")
    url = sqs.create_queue(QueueName="waits", Attributes={"ReceiveMessageWaitTimeSeconds": "20"})["QueueUrl"]
    thread, out = _receive_later(cronbridge_server, url, None)
    _until_waiting(cronbridge_server, thread)
    sqs.send_message(QueueUrl=url, MessageBody="for the queue's wait")
    thread.join(25)
    assert [m["Body"] for m in out["messages"]] == ["for the queue's wait"]
    started = time.monotonic()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ReceiveMessageWaitTimeSeconds": "1"})
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    assert time.monotonic() - started >= 0.9
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []  # 0 overrides the queue's


def test_wait_time_above_twenty_seconds_is_refused(cronbridge_server: ServerProcess) -> None:
    sqs = cronbridge_server.client("sqs")
    url = sqs.create_queue(QueueName="too-long")["QueueUrl"]
    with pytest.raises(ClientError) as refused:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_waiting_receivers_hold_up_no_other_request(cronbridge_server: ServerProcess) -> None:
    sqs = cronbridge_server.client("sqs")
    url = sqs.create_queue(QueueName="crowd")["QueueUrl"]
    waiting = [_receive_later(cronbridge_server, url, 20) for _ in range(40)]
    _until_waiting(cronbridge_server, waiting[-1][0], 2.0)
    other = cronbridge_server.client("sqs").list_queues()["QueueUrls"]  # answers while 40 receives wait
    assert url in other
    assert all(thread.is_alive() for thread, _ in waiting)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)])
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"n{i}"} for i in range(10)])
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"o{i}"} for i in range(10)])
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"p{i}"} for i in range(10)])
    for thread, _ in waiting:
        thread.join(30)
    bodies = sorted(m["Body"] for _, out in waiting for m in out["messages"])
    assert len(bodies) == 40 and len(set(bodies)) == 40  # each receiver got one, none twice


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_message_sent_by_another_server_process_wakes_the_waiter(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    if engine == "postgresql":  # two servers as on two hosts: data folders of their own, one PostgreSQL
        database = request.getfixturevalue("postgres_url")
        first = ServerProcess(tmp_path / "one", database=database).start()
        second = ServerProcess(tmp_path / "two", database=database).start()
    else:  # two processes on one SQLite file
        first = ServerProcess(tmp_path / "shared").start()
        second = ServerProcess(tmp_path / "shared").start()
    try:
        url = first.client("sqs").create_queue(QueueName="across")["QueueUrl"]
        thread, out = _receive_later(first, url, 20)
        _until_waiting(first, thread)
        sent = time.monotonic()
        second.client("sqs").send_message(QueueUrl=url, MessageBody="from the other process")
        thread.join(25)
        assert [m["Body"] for m in out["messages"]] == ["from the other process"]
        assert time.monotonic() - sent < 10  # found by the waiter's short look at the database, not the 20 s end
    finally:
        second.stop()
        first.stop()
