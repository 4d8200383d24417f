"""Which rules and schedules run a task definition: by its ARN, by family:revision, or by family (the latest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from cronbridge import scope as scopes
from cronbridge.model.ecs import TaskDefinition
from cronbridge.model.events import EcsParameters

if TYPE_CHECKING:
    from cronbridge.system import System

MAX_ROWS = 500


@dataclass(frozen=True)
class User:
    """One rule or schedule whose target names the family: which revision it asks for (None: the latest)."""

    kind: str  # rule | schedule
    name: str
    link: str
    revision: int | None

    def runs(self, definition: TaskDefinition, latest: int) -> bool:
        """Whether its next run uses this revision."""
        return (self.revision or latest) == definition.revision


def family_and_revision(reference: str) -> tuple[str, int | None]:
    """`arn:...:task-definition/NAME:3`, `NAME:3`, `arn:...:task-definition/NAME` or `NAME`."""
    name = reference.split(":task-definition/", 1)[1] if ":task-definition/" in reference else reference
    family, _, revision = name.partition(":")
    return family, int(revision) if revision.isdigit() else None


def users_of(system: System, definition: TaskDefinition) -> list[User]:
    """Every rule and schedule (of the definition's account and Region) whose ECS target names this definition's
    family, whatever the revision."""
    scope = scopes.of_arn(definition.task_definition_arn) or system.home
    found = []
    for rule in system.events.list_rules(scope, limit=MAX_ROWS):
        for target in system.events.targets(scope, rule.name):
            link = f"/console/rules/{quote(rule.name)}"
            use = _use("rule", rule.name, link, target.ecs_parameters, definition.family)
            found.extend([use] if use else [])
    for schedule in system.schedules.list_schedules(scope)[:MAX_ROWS]:
        link = f"/console/schedules/{quote(schedule.group_name)}/{quote(schedule.name)}"
        use = _use("schedule", f"{schedule.group_name}/{schedule.name}", link, schedule.target.ecs_parameters,
                   definition.family)
        found.extend([use] if use else [])
    return found


def _use(kind: str, name: str, link: str, ecs: EcsParameters | None, family: str) -> User | None:
    if ecs is None or not ecs.task_definition_arn:
        return None
    named, revision = family_and_revision(ecs.task_definition_arn)
    return User(kind, name, link, revision) if named == family else None
