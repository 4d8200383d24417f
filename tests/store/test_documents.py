"""The document store on a real SQLite file: put, get, list in order, counters, survival across reopen."""

from __future__ import annotations

from pathlib import Path

from cronbridge.model.ecs import Cluster
from cronbridge.store.db import Database
from cronbridge.store.documents import Documents


def test_documents_survive_closing_and_reopening_the_database(tmp_path: Path) -> None:
    db = Database(tmp_path / "state.db")
    Documents(db).put("cluster", "a", Cluster(cluster_name="a", cluster_arn="arn:a"))
    db.close()
    again = Documents(Database(tmp_path / "state.db"))
    assert again.get("cluster", "a", Cluster) == Cluster(cluster_name="a", cluster_arn="arn:a")


def test_listing_is_in_key_order_with_prefix_and_parent(tmp_path: Path) -> None:
    docs = Documents(Database(tmp_path / "state.db"))
    for key, parent in (("b2", "b"), ("a1", "a"), ("b1", "b")):
        docs.put("cluster", key, Cluster(cluster_name=key), parent=parent)
    assert [c.cluster_name for c in docs.list("cluster", Cluster)] == ["a1", "b1", "b2"]
    assert [c.cluster_name for c in docs.list("cluster", Cluster, parent="b")] == ["b1", "b2"]
    assert [c.cluster_name for c in docs.list("cluster", Cluster, prefix="b", after="b1")] == ["b2"]


def test_counters_increase_durably(tmp_path: Path) -> None:
    docs = Documents(Database(tmp_path / "state.db"))
    assert [docs.next_value("rev:x") for _ in range(3)] == [1, 2, 3]
    assert Documents(Database(tmp_path / "state.db")).next_value("rev:x") == 4


def test_wipe_empties_every_table(tmp_path: Path) -> None:
    db = Database(tmp_path / "state.db")
    docs = Documents(db)
    docs.put("cluster", "a", Cluster(cluster_name="a"))
    db.wipe()
    assert docs.list("cluster", Cluster) == []
