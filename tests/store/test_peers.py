"""What server processes on one database tell each other, on both engines (a real SQLite file, a real
PostgreSQL): task owners (a task taken over once),
control requests (sent, seen by their target, done), cache generations, shared secrets and the change feed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cronbridge.store.database import Database, open_database
from cronbridge.store.db import SqliteDatabase
from cronbridge.store.peers import (
    DataVersionFeed,
    Peer,
    TableCacheGenerations,
    TableControlRequests,
    TablePeers,
    TableTaskOwners,
    shared_secret,
)


def test_a_dead_owners_task_is_taken_over_by_one_process_only(database_location: str) -> None:
    one, other = open_database(database_location), open_database(database_location)
    TableTaskOwners(one).claim(["arn:task/1", "arn:task/2"], "dead")
    winners: list[str] = []

    def take(db: Database, me: str) -> None:
        if TableTaskOwners(db).take_over("arn:task/1", "dead", me):
            winners.append(me)

    threads = [threading.Thread(target=take, args=(db, me)) for db, me in ((one, "a"), (other, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert TableTaskOwners(one).owner("arn:task/1") == winners[0]
    assert TableTaskOwners(one).owners() == {winners[0], "dead"}
    assert not TableTaskOwners(one).take_over("arn:task/1", "dead", "c")  # no longer the dead one's
    assert TableTaskOwners(one).take_over("arn:legacy", None, "c")  # a task with no owner (an older release)
    assert not TableTaskOwners(one).take_over("arn:legacy", None, "d")


def test_a_request_is_seen_by_its_target_only_until_it_is_done(database_location: str) -> None:
    db = open_database(database_location)
    requests = TableControlRequests(db)
    sent = requests.send("b", "stop-task", "arn:task/1", {"reason": "bye"}, time.time())
    assert requests.open_for("a") == []
    [seen] = requests.open_for("b")
    assert (seen.id, seen.kind, seen.subject, seen.body) == (sent, "stop-task", "arn:task/1", {"reason": "bye"})
    assert not requests.is_done(sent)
    requests.retarget("arn:task/1", "c")  # the task changed owner: its requests follow it
    assert requests.open_for("b") == [] and [r.id for r in requests.open_for("c")] == [sent]
    requests.done(sent, time.time())
    assert requests.is_done(sent) and requests.open_for("c") == []


def test_peers_beat_join_again_and_leave(database_location: str) -> None:
    peers = TablePeers(open_database(database_location))
    me = Peer("host:1:abc", "host", 1, "42")
    peers.join(me, 100.0)
    peers.beat(me, 105.0)
    assert peers.get(me.id) == Peer("host:1:abc", "host", 1, "42", 105.0)
    peers.leave(me.id)
    peers.beat(me, 110.0)  # declared gone by mistake: its next beat puts it back
    assert [p.id for p in peers.all()] == [me.id]


def test_generations_move_on_and_secrets_are_made_once(database_location: str) -> None:
    one, other = open_database(database_location), open_database(database_location)
    generations = TableCacheGenerations(one)
    assert generations.read() == {}
    generations.bump("ecs")
    generations.bump("ecs")
    assert TableCacheGenerations(other).read() == {"ecs": 2}
    assert shared_secret(one, "k") == shared_secret(other, "k") != shared_secret(one, "other")


def test_the_change_feed_wakes_when_another_connection_commits(database_location: str) -> None:
    db = open_database(database_location)
    feed = db.change_feed()
    assert feed.wait(0.05) is False  # nothing committed
    TableCacheGenerations(open_database(database_location)).bump("iam")
    began = time.monotonic()
    assert feed.wait(5) is True
    assert time.monotonic() - began < 1
    TableCacheGenerations(db).bump("iam")  # this process's own write connection counts too
    assert feed.wait(5) is True
    feed.close()
    assert feed.wait(1) is False


def test_sqlite_data_version_feed_is_looked_at_often(tmp_path: Path) -> None:
    feed = DataVersionFeed(str(tmp_path / "s.db"), interval=0.002)
    TableCacheGenerations(SqliteDatabase(tmp_path / "s.db")).bump("iam")
    began = time.monotonic()
    assert feed.wait(5) is True
    assert time.monotonic() - began < 1
    feed.close()
