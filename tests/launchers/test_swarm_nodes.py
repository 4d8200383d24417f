"""Swarm nodes as ECS container instances: their attributes, and the Swarm constraints that admit exactly the nodes a
task definition's placementConstraints admit (node records as the Swarm API returns them)."""

from __future__ import annotations

from typing import Any

import pytest

from cronbridge.errors import LaunchError
from cronbridge.launchers.swarm_nodes import attributes, constraints_for


def node(node_id: str, labels: dict[str, str] | None = None, arch: str = "x86_64", state: str = "ready",
         availability: str = "active") -> dict[str, Any]:  # fmt: skip
    return {
        "ID": node_id,
        "CreatedAt": "2026-12-07T13:04:37.1Z",
        "Spec": {"Labels": labels or {}, "Role": "worker", "Availability": availability},
        "Description": {"Hostname": "vm", "Platform": {"Architecture": arch, "OS": "linux"},
                        "Engine": {"EngineVersion": "20.10.24"}},
        "Status": {"State": state, "Addr": "10.0.0.1"},
    }  # fmt: skip


NODES = [node("n1", {"zone": "a"}), node("n2", {"zone": "b"}, arch="aarch64"), node("n3", {"zone": "b"})]


def test_a_node_shows_its_platform_its_id_and_its_labels_as_ecs_attributes() -> None:
    found = attributes(node("n2", {"ecs.availability-zone": "us-east-1b"}, arch="aarch64"))
    assert found["attribute:ecs.os-type"] == "linux"
    assert found["attribute:ecs.cpu-architecture"] == "arm64"  # ECS's name for aarch64
    assert found["attribute:ecs.availability-zone"] == "us-east-1b"
    assert found["ec2InstanceId"] == "n2" and found["agentConnected"] == "true"


def test_no_constraint_leaves_every_node_to_swarm() -> None:
    assert constraints_for((), NODES) == []
    assert constraints_for((("memberOf", "attribute:ecs.os-type == linux"),), NODES) == []


def test_one_admitted_node_is_named() -> None:
    assert constraints_for((("memberOf", "attribute:ecs.cpu-architecture == arm64"),), NODES) == ["node.id==n2"]


def test_several_admitted_nodes_are_kept_by_leaving_the_others_out() -> None:
    assert constraints_for((("memberOf", "attribute:zone in [b, c]"),), NODES) == ["node.id!=n1"]


def test_every_constraint_must_hold() -> None:
    both = (("memberOf", "attribute:zone == b"), ("memberOf", "attribute:ecs.cpu-architecture != arm64"))
    assert constraints_for(both, NODES) == ["node.id==n3"]


def test_no_usable_node_fails_the_start_with_the_expression() -> None:
    drained = [node("n1", {"zone": "a"}), node("n2", {"zone": "b"}, availability="drain")]
    with pytest.raises(LaunchError, match=r"ResourceInitializationError: no Swarm node satisfies .*zone == b"):
        constraints_for((("memberOf", "attribute:zone == b"),), drained)


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("task:group == service:web", "task:group has no equivalent on a Docker Swarm"),
        ("attribute:zone in [a", "the expression ends too early"),
    ],
)
def test_what_swarm_cannot_place_fails_the_start(expression: str, why: str) -> None:
    with pytest.raises(LaunchError, match=why):
        constraints_for((("memberOf", expression),), NODES)
