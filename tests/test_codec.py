"""Dataclasses to wire dicts and back, in each AWS spelling."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from cronbridge.codec import camel, decode, encode, pascal, respell
from cronbridge.model.ecs import (
    Attachment,
    Container,
    ContainerDefinition,
    LogConfiguration,
    StopCode,
    Task,
    TaskOverride,
    TaskStatus,
)


def test_names_are_spelled_in_camel_and_pascal_case() -> None:
    assert camel("log_configuration") == "logConfiguration"
    assert pascal("schedule_expression") == "ScheduleExpression"
    assert camel("name") == "name"


def test_a_container_definition_round_trips_through_its_wire_form() -> None:
    definition = ContainerDefinition(
        name="hello", image="busybox", memory=512, command=["echo", "hi"],
        log_configuration=LogConfiguration("awslogs", {"awslogs-group": "/ecs/x"}),
    )
    wire = encode(definition, camel)
    assert wire["logConfiguration"] == {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/x"}}
    assert "memoryReservation" not in wire
    assert decode(ContainerDefinition, wire, camel) == definition


def test_enums_travel_as_their_aws_values() -> None:
    task = Task(task_arn="a", last_status=TaskStatus.STOPPED, stop_code=StopCode.USER_INITIATED)
    wire = encode(task, camel)
    assert wire["lastStatus"] == "STOPPED" and wire["stopCode"] == "UserInitiated"
    assert decode(Task, wire, camel).stop_code is StopCode.USER_INITIATED


def test_unknown_keys_are_ignored_when_decoding() -> None:
    assert decode(ContainerDefinition, {"name": "a", "image": "b", "fancyNewField": 1}, camel).name == "a"


@dataclass
class Sample:
    words: list[str] = field(default_factory=list)
    count: int | None = None
    labels: dict[str, str] = field(default_factory=dict)


@given(st.lists(st.text()), st.one_of(st.none(), st.integers()), st.dictionaries(st.text(), st.text()))
def test_any_sample_round_trips(words: list[str], count: int | None, labels: dict[str, str]) -> None:
    sample = Sample(words, count, labels)
    assert decode(Sample, encode(sample, pascal), pascal) == sample


@given(st.builds(Task, containers=st.lists(st.from_type(Container), max_size=3),
                 overrides=st.from_type(TaskOverride) | st.none(),
                 attachments=st.lists(st.from_type(Attachment), max_size=2) | st.none()))
def test_a_stored_task_respelled_is_the_wire_form_of_the_task(task: Task) -> None:
    assert respell(Task, encode(task), camel) == encode(task, camel)
