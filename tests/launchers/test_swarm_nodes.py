"""Swarm nodes as ECS container instances: their attributes, readiness and name (node records as the Swarm API
returns them), and a task placed on them by its placementConstraints."""

from __future__ import annotations

from typing import Any

import pytest

from cronbridge.ecs.placing import Constraint, place
from cronbridge.launchers.swarm_nodes import attributes, instance_of


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


def test_a_node_is_a_container_instance_named_by_its_hostname_and_id() -> None:
    found = instance_of(node("n2", {"zone": "b"}, arch="aarch64"))
    assert (found.id, found.name, found.connected) == ("n2", "vm (n2)", True)
    assert found.attributes["attribute:zone"] == "b"


@pytest.mark.parametrize(("state", "availability"), [("down", "active"), ("ready", "drain"), ("ready", "pause")])
def test_a_node_that_is_down_drained_or_paused_takes_no_task(state: str, availability: str) -> None:
    assert not instance_of(node("n1", state=state, availability=availability)).connected


def test_the_nodes_place_a_task_where_its_expression_holds() -> None:
    nodes = [instance_of(n) for n in NODES]
    arm = [Constraint("memberOf", "attribute:ecs.cpu-architecture == arm64")]
    assert place(arm, nodes, 1, {}, "family:f").instances == ("n2",)
    zone_b_x86 = [Constraint("memberOf", "attribute:zone == b"),
                  Constraint("memberOf", "attribute:ecs.cpu-architecture != arm64")]  # fmt: skip
    assert place(zone_b_x86, nodes, 1, {}, "family:f").instances == ("n3",)
