"""RunTask's placement: constraints checked with ECS's codes and messages, tasks placed on the container instances
that satisfy them, and ECS's failure reasons for the tasks that fit nowhere."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.ecs.placing import (
    Constraint,
    Instance,
    definition_constraints,
    place,
    run_constraints,
)
from cronbridge.errors import AwsError

A = Instance("a", {"attribute:zone": "a", "attribute:ecs.os-type": "linux", "ec2InstanceId": "a"}, name="vm-a (a)")
B = Instance("b", {"attribute:zone": "b", "attribute:ecs.os-type": "linux", "ec2InstanceId": "b"}, name="vm-b (b)")
DOWN = Instance("c", {"attribute:zone": "b"}, connected=False)
MEMBER_OF_B = Constraint("memberOf", "attribute:zone == b")
DISTINCT = Constraint("distinctInstance")


class TestDefinitionConstraints:
    def test_memberof_constraints_are_kept(self) -> None:
        raw = [{"type": "memberOf", "expression": "attribute:zone in [a, b]"}]
        assert definition_constraints(raw) == [Constraint("memberOf", "attribute:zone in [a, b]")]

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ([{"type": "distinctInstance"}], "constraint.type 'distinctInstance' is not supported."),
            ([{"type": "memberOf"}], "memberOf expression should be specified."),
            ([{"type": "memberOf", "expression": ""}], "memberOf expression should be specified."),
            ([{"expression": "attribute:zone == a"}], "constraint.type should not be null or empty."),
            ([{"type": "memberOf", "expression": "attribute:zone =="}],
             "Invalid placement constraint expression 'attribute:zone ==': the expression ends too early."),
            ([{"type": "memberOf", "expression": "color == blue"}],
             "Invalid placement constraint expression 'color == blue': unknown subject 'color'."),
            ([{"type": "memberOf", "expression": "attribute:zone == a"}] * 11,
             "Too many placement constraints: a task definition can have at most 10."),
            ("memberOf", "placementConstraints must be a list of objects"),
        ],
    )
    def test_what_register_task_definition_refuses_is_a_client_exception(self, raw: Any, message: str) -> None:
        with pytest.raises(AwsError) as caught:
            definition_constraints(raw)
        assert caught.value.code == "ClientException"
        assert caught.value.message.startswith(message)


class TestRunConstraints:
    def test_run_tasks_constraints_come_after_the_definitions(self) -> None:
        raw = [{"type": "distinctInstance"}, {"type": "memberOf", "expression": "attribute:zone == b"}]
        assert run_constraints(raw, [Constraint("memberOf", "ec2InstanceId exists")]) == [
            Constraint("memberOf", "ec2InstanceId exists"), DISTINCT, MEMBER_OF_B]

    @pytest.mark.parametrize(
        ("raw", "definition", "message"),
        [
            ([{"type": "distinctInstance", "expression": "attribute:zone == a"}], [],
             "distinctInstance expression should not be specified."),
            ([{"type": "memberOf"}], [], "memberOf expression should be specified."),
            ([{"type": "memberOf", "expression": "attribute:zone in [a"}], [],
             "Invalid placement constraint expression 'attribute:zone in [a': the expression ends too early."),
            ([{"type": "distinctInstance"}] * 3, [MEMBER_OF_B] * 8,
             "Too many placement constraints: a task can have at most 10, including those of its task definition."),
        ],
    )
    def test_what_run_task_refuses_is_an_invalid_parameter(
        self, raw: list[dict[str, str]], definition: list[Constraint], message: str
    ) -> None:
        with pytest.raises(AwsError) as caught:
            run_constraints(raw, definition)
        assert (caught.value.code, caught.value.message) == ("InvalidParameterException", message)

    @pytest.mark.parametrize("expression", ["task:group == service:web", "runningTasksCount < 3"])
    def test_a_subject_cronbridge_does_not_evaluate_is_a_client_exception(self, expression: str) -> None:
        with pytest.raises(AwsError) as caught:
            run_constraints([], [Constraint("memberOf", expression)])
        assert caught.value.code == "ClientException"
        assert "which cronbridge does not evaluate" in caught.value.message


class TestPlace:
    def test_a_task_goes_to_the_instance_its_expression_admits(self) -> None:
        assert place([MEMBER_OF_B], [A, B], 1, {}, "family:f").instances == ("b",)

    def test_no_instance_satisfying_memberof_fails_with_member_for_each_instance(self) -> None:
        found = place([Constraint("memberOf", "attribute:zone == z")], [A, B], 2, {}, "family:f")
        assert found.instances == ()
        assert [(f.instance_id, f.reason) for f in found.failures] == [("a", "MEMBER"), ("b", "MEMBER")]
        assert found.failures[0].detail == "vm-a (a) does not satisfy memberOf(attribute:zone == z)"

    def test_an_instance_that_is_not_ready_is_an_agent_failure(self) -> None:
        found = place([MEMBER_OF_B], [A, DOWN], 1, {}, "family:f")
        assert [(f.instance_id, f.reason) for f in found.failures] == [("a", "MEMBER"), ("c", "AGENT")]

    def test_distinct_instance_places_one_task_of_the_group_per_instance(self) -> None:
        found = place([DISTINCT], [A, B], 3, {}, "family:f")
        assert sorted(found.instances) == ["a", "b"]
        assert {(f.instance_id, f.reason) for f in found.failures} == {("a", "DISTINCT_INSTANCE"),
                                                                       ("b", "DISTINCT_INSTANCE")}  # fmt: skip
        assert found.failures[0].detail.endswith("already runs a task of group family:f")

    def test_distinct_instance_counts_the_groups_running_tasks(self) -> None:
        assert place([DISTINCT], [A, B], 1, {"a": 1}, "family:f").instances == ("b",)
        assert place([DISTINCT], [A], 1, {"a": 1}, "family:f").instances == ()

    def test_without_distinct_instance_tasks_share_an_instance_and_nothing_fails(self) -> None:
        found = place([MEMBER_OF_B], [A, B], 3, {"b": 5}, "family:f")
        assert found == type(found)(("b", "b", "b"))

    def test_a_count_is_spread_over_the_candidates(self) -> None:
        found = place([Constraint("memberOf", "attribute:ecs.os-type == linux")], [A, B], 4, {}, "g", random.Random(1))
        assert sorted(found.instances) == ["a", "a", "b", "b"]


_INSTANCES = st.lists(
    st.builds(Instance, st.sampled_from("abcdef"), st.fixed_dictionaries({"attribute:zone": st.sampled_from("xyz")}),
              st.booleans()),  # fmt: skip
    max_size=5, unique_by=lambda i: i.id,
)


@given(_INSTANCES, st.integers(1, 10), st.sampled_from([[], [DISTINCT]]), st.sampled_from("xyz"))
def test_every_task_is_placed_on_a_ready_member_or_the_shortfall_is_explained(
    instances: list[Instance], count: int, extra: list[Constraint], zone: str
) -> None:
    constraints = [Constraint("memberOf", f"attribute:zone == {zone}"), *extra]
    found = place(constraints, instances, count, {}, "g", random.Random(0))
    members = {i.id for i in instances if i.connected and i.attributes["attribute:zone"] == zone}
    assert set(found.instances) <= members
    if extra:
        assert len(found.instances) == len(set(found.instances)) == min(count, len(members))
    else:
        assert len(found.instances) == (count if members else 0)
    assert bool(found.failures) == (len(found.instances) < count and bool(instances))
    assert {f.instance_id for f in found.failures} <= {i.id for i in instances}
