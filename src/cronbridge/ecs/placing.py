"""PURE. RunTask's placement: placementConstraints checked with ECS's codes and messages, then each task of a RunTask
placed on a container instance that satisfies them (memberOf, distinctInstance), or ECS's failure reasons."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cronbridge.ecs import placement
from cronbridge.errors import AwsError, ClientError, InvalidParameter

MAX_CONSTRAINTS = 10  # per task, the task definition's and RunTask's together
MEMBER_OF, DISTINCT_INSTANCE = "memberOf", "distinctInstance"
UNSUPPORTED_SUBJECTS = ("task:group", "runningTasksCount")  # about other tasks: cronbridge does not evaluate them
# ECS's failure reasons (RunTask's failures[], each with the container instance's ARN)
AGENT, MEMBER, DISTINCT = "AGENT", "MEMBER", "DISTINCT_INSTANCE"


@dataclass(frozen=True)
class Constraint:
    """One placement constraint: `memberOf` with its expression, or `distinctInstance`."""

    kind: str
    expression: str | None = None


@dataclass(frozen=True)
class Instance:
    """A container instance: its id (a Swarm node's id; a fixed id for the one machine of the local launchers),
    its subjects in the cluster query language, and whether a task can be placed on it now."""

    id: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    connected: bool = True
    name: str = ""  # for people: `hostname (id)`


@dataclass(frozen=True)
class Failure:
    instance_id: str
    reason: str
    detail: str


@dataclass(frozen=True)
class Placement:
    """Where the placed tasks go (one instance id per task, fewer than asked when some could not be placed) and
    why the others could not be (one failure per instance and reason)."""

    instances: tuple[str, ...]
    failures: tuple[Failure, ...] = ()


def definition_constraints(raw: Any) -> list[Constraint]:
    """A task definition's placementConstraints as RegisterTaskDefinition checks them (ClientException):
    only memberOf, each with an expression of the cluster query language, at most 10."""
    raw = _items(raw, ClientError)
    if len(raw) > MAX_CONSTRAINTS:
        raise ClientError(f"Too many placement constraints: a task definition can have at most {MAX_CONSTRAINTS}.")
    found = []
    for item in raw:
        kind, expression = _fields(item, ClientError)
        if kind != MEMBER_OF:
            raise ClientError(f"constraint.type '{kind}' is not supported.")
        found.append(Constraint(kind, _expression(expression, ClientError)))
    return found


def run_constraints(raw: Any, definition: Sequence[Constraint]) -> list[Constraint]:
    """RunTask's placementConstraints as RunTask checks them (InvalidParameterException), after the definition's;
    at most 10 in all. An expression using a subject cronbridge does not evaluate is a ClientException."""
    raw = _items(raw, InvalidParameter)
    if len(raw) + len(definition) > MAX_CONSTRAINTS:
        raise InvalidParameter(
            f"Too many placement constraints: a task can have at most {MAX_CONSTRAINTS}, including those of its "
            "task definition."
        )
    found = list(definition)
    for item in raw:
        kind, expression = _fields(item, InvalidParameter)
        if kind == DISTINCT_INSTANCE:
            if expression:
                raise InvalidParameter("distinctInstance expression should not be specified.")
            found.append(Constraint(kind))
        else:
            found.append(Constraint(kind, _expression(expression, InvalidParameter)))
    for constraint in found:
        _check_supported(constraint)
    return found


def _items(raw: Any, error: type[AwsError]) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise error("placementConstraints must be a list of objects with a type and an expression.")
    return raw


def _fields(item: Mapping[str, Any], error: type[AwsError]) -> tuple[str, str | None]:
    kind, expression = item.get("type"), item.get("expression")
    if not isinstance(kind, str) or not kind:
        raise error("constraint.type should not be null or empty.")
    if expression is not None and not isinstance(expression, str):
        raise error("constraint.expression must be a string.")
    return kind, expression


def _expression(text: str | None, error: type[AwsError]) -> str:
    if not text:
        raise error("memberOf expression should be specified.")
    try:
        placement.parse(text)
    except placement.ExpressionError as exc:
        raise error(f"Invalid placement constraint expression '{text}': {exc}.") from exc
    return text


def _check_supported(constraint: Constraint) -> None:
    if constraint.expression is None:
        return
    subjects = placement.subjects(placement.parse(constraint.expression))
    unsupported = sorted(s for s in subjects if s.startswith(UNSUPPORTED_SUBJECTS))
    if unsupported:
        raise ClientError(
            f"The placement constraint expression '{constraint.expression}' uses {', '.join(unsupported)}, "
            "which cronbridge does not evaluate."
        )


def place(
    constraints: Sequence[Constraint], instances: Sequence[Instance], count: int, busy: Mapping[str, int],
    group: str, rng: random.Random | None = None,
) -> Placement:
    """Place `count` tasks: each on a connected instance satisfying every memberOf expression and, with
    distinctInstance, running no other active task of `group` (`busy`: instance id -> such tasks; this request's
    tasks count as they are placed). Among the candidates, one with the fewest tasks of this request, chosen at
    random (`rng`) among equals. The failures are told only when some task could not be placed."""
    rng = rng or random.Random()
    rules = _Rules(constraints, group)
    taken: dict[str, int] = {}
    failures: dict[tuple[str, str], Failure] = {}
    for _ in range(count):
        candidates = []
        for instance in instances:
            refusal = rules.refusal(instance, busy.get(instance.id, 0) + taken.get(instance.id, 0))
            if refusal is None:
                candidates.append(instance)
            else:
                failures.setdefault((instance.id, refusal.reason), refusal)
        if candidates:
            fewest = min(taken.get(i.id, 0) for i in candidates)
            pick = rng.choice([i for i in candidates if taken.get(i.id, 0) == fewest])
            taken[pick.id] = taken.get(pick.id, 0) + 1
    chosen = tuple(i for i, n in taken.items() for _ in range(n))
    return Placement(chosen, tuple(failures.values()) if len(chosen) < count else ())


class _Rules:
    """The constraints of one task, parsed once: why a task cannot go on an instance, in ECS's reasons."""

    def __init__(self, constraints: Sequence[Constraint], group: str) -> None:
        self.members = [(c.expression, placement.parse(c.expression))
                        for c in constraints if c.kind == MEMBER_OF and c.expression]  # fmt: skip
        self.distinct = any(c.kind == DISTINCT_INSTANCE for c in constraints)
        self.group = group

    def refusal(self, instance: Instance, running: int) -> Failure | None:
        """None when a task can go on the instance, which runs `running` active tasks of the group."""
        shown = instance.name or instance.id
        if not instance.connected:
            return Failure(instance.id, AGENT, f"{shown} is not ready to run tasks")
        for text, expression in self.members:
            if not expression.holds(instance.attributes):
                return Failure(instance.id, MEMBER, f"{shown} does not satisfy memberOf({text})")
        if self.distinct and running:
            return Failure(instance.id, DISTINCT, f"{shown} already runs a task of group {self.group}")
        return None
