"""The document store on both engines: put, get, list in order, counters, survival across reopen."""

from __future__ import annotations

from cronbridge.model.ecs import Cluster
from cronbridge.scope import HOME, Scope
from cronbridge.store.database import open_database
from cronbridge.store.documents import Documents


def test_documents_survive_closing_and_reopening_the_database(database_location: str) -> None:
    db = open_database(database_location)
    Documents(db).put("cluster", HOME, "a", Cluster(cluster_name="a", cluster_arn="arn:a"))
    db.close()
    again = Documents(open_database(database_location))
    assert again.get("cluster", HOME, "a", Cluster) == Cluster(cluster_name="a", cluster_arn="arn:a")


def test_listing_is_in_key_order_with_prefix_and_parent(database_location: str) -> None:
    docs = Documents(open_database(database_location))
    for key, parent in (("b2", "b"), ("a1", "a"), ("b1", "b")):
        docs.put("cluster", HOME, key, Cluster(cluster_name=key), parent=parent)
    assert [c.cluster_name for c in docs.list("cluster", Cluster, HOME)] == ["a1", "b1", "b2"]
    assert [c.cluster_name for c in docs.list("cluster", Cluster, HOME, parent="b")] == ["b1", "b2"]
    assert [c.cluster_name for c in docs.list("cluster", Cluster, HOME, prefix="b", after="b1")] == ["b2"]


def test_the_same_key_in_two_regions_or_accounts_is_two_documents(database_location: str) -> None:
    docs = Documents(open_database(database_location))
    west, other = Scope(HOME.account, "eu-west-1"), Scope("111111111111", HOME.region)
    for scope in (HOME, west, other):
        docs.put("cluster", scope, "a", Cluster(cluster_name="a", cluster_arn=scope.arn("ecs", "cluster/a")))
    assert docs.get("cluster", west, "a", Cluster).cluster_arn == "arn:aws:ecs:eu-west-1:000000000000:cluster/a"
    assert docs.delete("cluster", west, "a")
    assert docs.get("cluster", west, "a", Cluster) is None
    assert [c.cluster_arn for c in docs.list("cluster", Cluster, HOME)] == [HOME.arn("ecs", "cluster/a")]
    assert len(list(docs.iter_all("cluster", Cluster))) == 2


def test_counters_increase_durably(database_location: str) -> None:
    docs = Documents(open_database(database_location))
    assert [docs.next_value("rev:x") for _ in range(3)] == [1, 2, 3]
    assert Documents(open_database(database_location)).next_value("rev:x") == 4


def test_wipe_empties_every_table(database_location: str) -> None:
    db = open_database(database_location)
    docs = Documents(db)
    docs.put("cluster", HOME, "a", Cluster(cluster_name="a"))
    db.wipe()
    assert docs.list("cluster", Cluster, HOME) == []


def test_children_of_many_parents_come_in_one_call_in_key_order(database_location: str) -> None:
    docs = Documents(open_database(database_location))
    for key, parent in (("a\x00b2", "a"), ("a\x00b1", "a"), ("c\x00x", "c")):  # keys joined by NUL, as targets are
        docs.put("target", HOME, key, Cluster(cluster_name=key), parent=parent)
    docs.put("target", Scope("111111111111", "eu-west-1"), "a\x00elsewhere", Cluster(cluster_name="x"), parent="a")
    found = docs.children("target", Cluster, HOME, ["a", "b", "c"])
    assert {p: [c.cluster_name for c in cs] for p, cs in found.items()} == {
        "a": ["a\x00b1", "a\x00b2"], "b": [], "c": ["c\x00x"]
    }
