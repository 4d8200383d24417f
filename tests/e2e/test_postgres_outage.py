"""A server whose PostgreSQL goes away: it keeps answering what it can from memory, refuses the rest with a
retryable ServiceUnavailable (503) in each protocol's shape, and resumes when PostgreSQL is back, with every
acknowledged write there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from fixtures.postgres import TEMPLATE, Cluster, wait_until_accepting
from fixtures.server import ServerProcess


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    cluster = Cluster()  # its own: this test stops it
    yield cluster
    cluster.remove()


def refused(call: Any) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value


def eventually(call: Any, timeout: float = 30) -> Any:
    """What an SDK's retries do: call again while the answer is ServiceUnavailable."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except botocore.exceptions.ClientError as err:
            if err.response["Error"]["Code"] != "ServiceUnavailable" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_server_without_its_database_answers_what_it_can_refuses_the_rest_and_resumes(
    tmp_path: Path, own_cluster: Cluster
) -> None:
    server = ServerProcess(tmp_path / "data", launcher="noop", database=own_cluster.url(TEMPLATE)).start()
    try:
        ecs, events, iam = server.client("ecs"), server.client("events"), server.client("iam")
        ecs.create_cluster(clusterName="kept")
        events.put_rule(Name="before", ScheduleExpression="rate(1 hour)")
        ecs.register_task_definition(family="kept", containerDefinitions=[{"name": "app", "image": "busybox",
                                                                            "memory": 64}])
        assert ecs.describe_task_definition(taskDefinition="kept")["taskDefinition"]["revision"] == 1  # now cached

        own_cluster.stop("immediate")
        assert server.get("/_cronbridge/health")["status"] == "ok"  # the server itself is alive
        described = ecs.describe_task_definition(taskDefinition="kept")  # from memory (the caller's key too)
        assert described["taskDefinition"]["family"] == "kept"
        for call in (
            lambda: events.put_rule(Name="during", ScheduleExpression="rate(1 hour)"),  # awsJson 1.1
            lambda: ecs.create_cluster(clusterName="during"),
            lambda: iam.create_user(UserName="during"),  # query protocol (XML)
        ):
            err = refused(call)
            assert err.response["Error"]["Code"] == "ServiceUnavailable"
            assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 503  # retryable: SDKs retry it
        started = time.monotonic()
        refused(lambda: events.list_rules())
        assert time.monotonic() - started < 5  # told at once, not after waiting for the pool

        own_cluster.start()
        wait_until_accepting(own_cluster.url(TEMPLATE))
        eventually(lambda: events.put_rule(Name="after", ScheduleExpression="rate(1 hour)"))
        names = [r["Name"] for r in eventually(lambda: events.list_rules())["Rules"]]
        assert names == ["after", "before"]  # the acknowledged rule survived the crash; the refused one never was
        assert [u["UserName"] for u in eventually(lambda: iam.list_users())["Users"]] == ["admin"]
    finally:
        server.stop()
