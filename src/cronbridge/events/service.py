"""EventBridge rules and targets on the default bus: validated as AWS does, kept as documents, changes announced."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

from cronbridge import arn as arns
from cronbridge.clock import Clock
from cronbridge.errors import AwsError, NotFound, ValidationError
from cronbridge.model.events import Rule, Target
from cronbridge.schedule import parse
from cronbridge.store.documents import Documents

RULE = "events.rule"
TARGET = "events.target"
MAX_TARGETS = 5


class EventsService:
    """Rules and their targets; `on_change` is called after anything that can move a fire time."""

    def __init__(self, docs: Documents, clock: Clock) -> None:
        self.docs = docs
        self.clock = clock
        self.on_change: Callable[[str | None], None] = lambda name: None

    def put_rule(self, region: str, account: str, rule: Rule) -> Rule:
        _check_rule(rule)
        now = self.clock.now()
        previous = self.docs.get(RULE, rule.name, Rule)
        saved = dataclasses.replace(
            rule,
            arn=arns.build("events", region, account, f"rule/{rule.name}"),
            created_by=account,
            created_at=previous.created_at if previous else now,
            schedule_set_at=_schedule_set_at(previous, rule, now),
            enabled_at=_enabled_at(previous, rule, now),
            tags=rule.tags if rule.tags is not None else (previous.tags if previous else None),
        )
        self.docs.put(RULE, rule.name, saved)
        self.on_change(rule.name)
        return saved

    def rule(self, name: str) -> Rule:
        found = self.docs.get(RULE, name, Rule)
        if found is None:
            raise NotFound(f"Rule {name} does not exist on EventBus default.")
        return found

    def list_rules(self, prefix: str = "", after: str = "", limit: int = 100) -> list[Rule]:
        return self.docs.list(RULE, Rule, prefix=prefix, after=after, limit=limit)

    def all_rules(self) -> list[Rule]:
        return list(self.iter_rules())

    def iter_rules(self) -> Iterator[Rule]:
        """Every rule, read a page at a time (planning a million rules never holds them all)."""
        return self.docs.iter_all(RULE, Rule)

    def delete_rule(self, name: str, force: bool = False) -> None:
        if self.docs.get(RULE, name, Rule) is None:
            return
        if self.targets(name) and not force:
            raise ValidationError("Rule can't be deleted since it has targets.")
        self.docs.delete_children(TARGET, name)
        self.docs.delete(RULE, name)
        self.on_change(name)

    def set_state(self, name: str, enabled: bool) -> Rule:
        rule = self.rule(name)
        state = "ENABLED" if enabled else "DISABLED"
        if rule.state != state:
            rule = dataclasses.replace(rule, state=state, enabled_at=self.clock.now() if enabled else rule.enabled_at)
            self.docs.put(RULE, name, rule)
            self.on_change(name)
        return rule

    def set_tags(self, name: str, tags: list[dict[str, str]]) -> None:
        self.docs.put(RULE, name, dataclasses.replace(self.rule(name), tags=tags))

    def put_targets(self, name: str, targets: Sequence[Target]) -> list[tuple[str, str, str]]:
        """Add or replace targets; returns failed entries as (target id, error code, message)."""
        self.rule(name)
        existing = {t.id for t in self.targets(name)}
        if len(existing | {t.id for t in targets}) > MAX_TARGETS:
            raise AwsError("The requested resource exceeds the maximum number allowed.", "LimitExceededException")
        failed: list[tuple[str, str, str]] = []
        for target in targets:
            problem = _target_problem(target)
            if problem:
                failed.append((target.id, "ValidationException", problem))
                continue
            self.docs.put(TARGET, f"{name}\x00{target.id}", target, parent=name)
        self.on_change(name)
        return failed

    def targets(self, name: str) -> list[Target]:
        return self.docs.list(TARGET, Target, parent=name)

    def remove_targets(self, name: str, ids: Sequence[str]) -> list[tuple[str, str, str]]:
        self.rule(name)
        for target_id in ids:
            self.docs.delete(TARGET, f"{name}\x00{target_id}")
        self.on_change(name)
        return []

    def rule_names_by_target(self, target_arn: str) -> list[str]:
        return sorted({r.name for r in self.all_rules() for t in self.targets(r.name) if t.arn == target_arn})


def _check_rule(rule: Rule) -> None:
    if not rule.schedule_expression and not rule.event_pattern:
        raise ValidationError("Parameter(s) EventPattern or ScheduleExpression must be specified.")
    if rule.schedule_expression:
        if rule.event_bus_name not in ("default", "") and not rule.event_bus_name.endswith(":event-bus/default"):
            raise ValidationError("ScheduleExpression is supported only on the default event bus.")
        parse(rule.schedule_expression, allow_at=False)


def _schedule_set_at(previous: Rule | None, rule: Rule, now: float) -> float:
    if previous is not None and previous.schedule_expression == rule.schedule_expression:
        return previous.schedule_set_at
    return now


def _enabled_at(previous: Rule | None, rule: Rule, now: float) -> float:
    if previous is not None and previous.state == "ENABLED" and rule.state == "ENABLED":
        return previous.enabled_at
    return now


def _target_problem(target: Target) -> str | None:
    if target.ecs_parameters is not None:
        count = target.ecs_parameters.task_count
        if count is not None and not 1 <= count <= 10:
            return "TaskCount must be between 1 and 10."
    policy = target.retry_policy
    if policy is not None:
        if policy.maximum_retry_attempts is not None and not 0 <= policy.maximum_retry_attempts <= 185:
            return "MaximumRetryAttempts must be between 0 and 185."
        age = policy.maximum_event_age_in_seconds
        if age is not None and not 60 <= age <= 86400:
            return "MaximumEventAgeInSeconds must be between 60 and 86400."
    return None
