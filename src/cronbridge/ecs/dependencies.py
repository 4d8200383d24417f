"""Container dependencies (dependsOn): start order and whether a condition holds, is pending, or can never hold."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from cronbridge.model.ecs import ContainerDefinition

CONDITIONS = ("START", "COMPLETE", "SUCCESS", "HEALTHY")


class Verdict(enum.Enum):
    MET = "met"
    WAIT = "wait"
    NEVER = "never"


@dataclass(frozen=True)
class ContainerState:
    """What the runner knows of a dependency right now."""

    started: bool = False
    exited: bool = False
    exit_code: int | None = None
    health: str = "UNKNOWN"


def start_order(definitions: Sequence[ContainerDefinition]) -> list[ContainerDefinition]:
    """A topological order that keeps the definition order among independent containers (Kahn's algorithm).
    Registration rejects cycles, so every container appears."""
    remaining = list(definitions)
    placed: list[ContainerDefinition] = []
    names: set[str] = set()
    while remaining:
        ready = [d for d in remaining if all(dep.container_name in names for dep in d.depends_on or [])]
        if not ready:
            return placed + remaining
        for d in ready:
            placed.append(d)
            names.add(d.name)
            remaining.remove(d)
    return placed


def verdict(condition: str, state: ContainerState) -> Verdict:
    """Whether `condition` holds for a dependency in `state`."""
    if condition == "START":
        return Verdict.MET if state.started else Verdict.WAIT
    if condition == "COMPLETE":
        return Verdict.MET if state.exited else Verdict.WAIT
    if condition == "SUCCESS":
        if not state.exited:
            return Verdict.WAIT
        return Verdict.MET if state.exit_code == 0 else Verdict.NEVER
    if state.health == "HEALTHY":
        return Verdict.MET
    return Verdict.NEVER if state.exited or state.health == "UNHEALTHY" else Verdict.WAIT


def find_cycle(definitions: Sequence[ContainerDefinition]) -> list[str] | None:
    """Names on a dependency cycle, or None."""
    order = start_order(definitions)
    placed: set[str] = set()
    for d in order:
        if any(dep.container_name not in placed for dep in d.depends_on or []):
            return [d.name, *(dep.container_name for dep in d.depends_on or [] if dep.container_name not in placed)]
        placed.add(d.name)
    return None
