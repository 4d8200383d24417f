"""PostgreSQL's own promises, on clusters of the test's own: a server that goes away is answered with a retryable
StoreUnavailable (fast, while it is away) and resumed once it is back with every committed row there; a libpq
multi-host URL with target_session_attrs=read-write reaches the primary, and a promoted standby after a failover."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from cronbridge.errors import StoreUnavailable
from cronbridge.store.database import open_database
from cronbridge.store.documents import Documents
from cronbridge.store.postgres import PostgresDatabase
from fixtures.postgres import TEMPLATE, Cluster, wait_until_accepting


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A cluster this test may stop and start (the session's one is shared)."""
    cluster = Cluster()
    yield cluster
    cluster.remove()


def eventually(action: object, timeout: float = 30.0) -> object:
    """Call until it stops raising StoreUnavailable (what an AWS SDK's retries do)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()  # type: ignore[operator]
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_lost_server_is_a_retryable_error_and_work_resumes_when_it_returns(own_cluster: Cluster) -> None:
    url = own_cluster.url(TEMPLATE)
    db = open_database(url)
    try:
        docs = Documents(db)
        docs.next_value("kept")
        own_cluster.stop("immediate")  # as a crash: nothing flushed at shutdown
        with pytest.raises(StoreUnavailable) as raised:
            docs.next_value("kept")
        assert raised.value.status == 503 and raised.value.code == "ServiceUnavailable"
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            db.query("SELECT 1")
        assert time.monotonic() - started < 5  # a reader is told at once, not after the pool's 30 s wait
        own_cluster.start()
        wait_until_accepting(url)
        assert eventually(lambda: docs.next_value("kept")) == 2  # the acknowledged value survived the crash
    finally:
        db.close()


def test_a_multi_host_url_reaches_the_primary_and_a_promoted_standby_after_failover(own_cluster: Cluster) -> None:
    open_database(own_cluster.url(TEMPLATE)).close()  # the schema, before the standby copies it
    standby = own_cluster.standby()
    try:
        hosts = f"{own_cluster.socket_dir},{standby.socket_dir}"
        ports = f"{own_cluster.port},{standby.port}"
        url = (f"postgresql://{own_cluster.user}@/{TEMPLATE}?host={hosts}&port={ports}"
               "&target_session_attrs=read-write&connect_timeout=3")
        db = open_database(url)
        try:
            docs = Documents(db)
            assert docs.next_value("turn") == 1  # written on the primary (the standby is read-only)
            deadline = time.monotonic() + 30
            while standby.scalar(TEMPLATE, "SELECT COALESCE(MAX(value), 0) FROM counters") != 1:
                assert time.monotonic() < deadline, "the standby never replayed the write"
                time.sleep(0.1)
            own_cluster.stop("immediate")  # the primary dies...
            standby.promote()  # ... and its standby takes over
            assert eventually(lambda: docs.next_value("turn")) == 2  # the same URL now reaches the new primary
        finally:
            db.close()
    finally:
        standby.remove()



def test_a_wait_for_a_pooled_connection_is_what_the_watchdog_sees_as_a_stall(postgres_url: str) -> None:
    db = PostgresDatabase(postgres_url, pool_size=2)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction():
            held.set()
            release.wait(30)

    holders = [threading.Thread(target=hold) for _ in range(2)]  # every pooled connection taken
    for thread in holders:
        thread.start()
    assert held.wait(10)
    waiter = threading.Thread(target=lambda: db.one("SELECT 1"))
    try:
        deadline = time.monotonic() + 20
        while db.stalled_for() < 0.5:  # the waiter waits on (both holders hold their connections)
            assert time.monotonic() < deadline, "nobody was seen waiting"
            if not waiter.is_alive() and waiter.ident is None:
                waiter.start()
            time.sleep(0.05)
    finally:
        release.set()
        for thread in (*holders, waiter):
            if thread.ident is not None:
                thread.join(30)
    assert db.stalled_for() == 0.0  # nobody waits once the connections are back
    db.close()
