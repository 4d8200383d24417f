"""EventBridge event buses, and the rules and targets on them: validated as AWS does, kept as documents; every
change is counted (routing caches compare the count) and announced (the scheduler re-plans scheduled rules)."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator, Sequence

from cronbridge import arn as arns
from cronbridge import scope as scopes
from cronbridge.clock import Clock
from cronbridge.errors import AlreadyExists, AwsError, NotFound, ValidationError
from cronbridge.events.pattern import compile_pattern
from cronbridge.events.transform import check_target_input
from cronbridge.model.events import EventBus, Rule, Target
from cronbridge.schedule import ScheduleError, parse
from cronbridge.scheduler.changes import Changes
from cronbridge.scope import Scope
from cronbridge.store.documents import Documents
from cronbridge.store.events import RULES_COUNTER

log = logging.getLogger("cronbridge.events")

RULE = "events.rule"
TARGET = "events.target"
BUS = "events.bus"
DEFAULT = "default"
MAX_TARGETS = 5
_BUS_NAME = re.compile(r"[/\.\-_A-Za-z0-9]{1,256}")


def bus_name(given: str | None) -> str:
    """A bus from its name or ARN (`EventBusName` takes either); `default` when none is given."""
    if not given:
        return DEFAULT
    return given.rsplit(":event-bus/", 1)[1] if ":event-bus/" in given else given


def rule_key(bus: str, name: str) -> str:
    """Rules on the default bus keep their plain names (as before buses existed); others are bus-qualified."""
    return name if bus == DEFAULT else f"{bus}\x01{name}"


def rule_arn(scope: Scope, bus: str, name: str) -> str:
    """A rule's ARN: `rule/NAME` on the default bus, `rule/BUS/NAME` on another, in the rule's account and Region."""
    return scope.arn("events", f"rule/{name}" if bus == DEFAULT else f"rule/{bus}/{name}")


def rule_of_arn(arn: str) -> tuple[Scope, str, str] | None:
    """(scope, bus, name) of a rule ARN, or None when it is not one."""
    scope = scopes.of_arn(arn)
    if scope is None or ":events:" not in arn or ":rule/" not in arn:
        return None
    bus, _, name = arn.split(":rule/", 1)[1].rpartition("/")  # rule names have no "/"; bus names may
    return scope, bus or DEFAULT, name


class EventsService:
    """Buses, rules and targets, per account and Region; `changes` hears of rules whose fire times may have moved
    (by the rule's ARN)."""

    def __init__(self, docs: Documents, clock: Clock, changes: Changes) -> None:
        self.docs = docs
        self.clock = clock
        self.on_change = changes.rule

    def _changed(self, scope: Scope, bus: str, name: str) -> None:
        self.docs.next_value(RULES_COUNTER)
        self.on_change(rule_arn(scope, bus, name))

    # buses -----------------------------------------------------------------------------------------------------
    def bus(self, scope: Scope, name: str) -> EventBus:
        if name == DEFAULT:
            return self._default_bus(scope)
        found = self.docs.get(BUS, scope, name, EventBus)
        if found is None:
            raise NotFound(f"Event bus {name} does not exist.")
        return found

    def _default_bus(self, scope: Scope) -> EventBus:
        """The account's default bus in a Region: it exists from the start, and is stored when first seen so that
        it keeps the creation time it shows (DescribeEventBus and ListEventBuses show one for the default bus too)."""
        stored = self.docs.get(BUS, scope, DEFAULT, EventBus)
        if stored is not None and stored.created_at:
            return stored
        now = self.clock.now()
        bus = dataclasses.replace(
            stored or EventBus(DEFAULT, scope.arn("events", "event-bus/default")), created_at=now, last_modified=now
        )
        self.docs.put(BUS, scope, DEFAULT, bus)
        return bus

    def bus_exists(self, scope: Scope, name: str) -> bool:
        return name == DEFAULT or self.docs.get(BUS, scope, name, EventBus) is not None

    def create_bus(
        self, scope: Scope, name: str, description: str | None, tags: list[dict[str, str]] | None,
        event_source: str | None = None,
    ) -> EventBus:
        if name == DEFAULT:  # the account's own bus, which always exists
            raise AlreadyExists("Event bus default already exists.")
        if event_source is not None:  # a partner bus: named after its event source, which no partner offers here
            if name != event_source:
                raise ValidationError("Event bus name must match event source name.")
            raise NotFound(f"Event source {event_source} does not exist.")
        if "/" in name:  # only a partner bus's name has one
            raise ValidationError("Event bus name must not contain '/'.")
        if not _BUS_NAME.fullmatch(name) or name.startswith("aws."):
            raise ValidationError(f"Event bus name {name} is not valid.")
        if self.bus_exists(scope, name):
            raise AlreadyExists(f"Event bus {name} already exists.")
        now = self.clock.now()
        bus = EventBus(name, scope.arn("events", f"event-bus/{name}"), description, None, now, now, tags)
        self.docs.put(BUS, scope, name, bus)
        return bus

    def list_buses(self, scope: Scope, prefix: str = "") -> list[EventBus]:
        custom = self.docs.list(BUS, EventBus, scope, prefix=prefix)
        default = [self.bus(scope, DEFAULT)] if DEFAULT.startswith(prefix) else []
        return sorted(default + [b for b in custom if b.name != DEFAULT], key=lambda b: b.name)

    def delete_bus(self, scope: Scope, name: str) -> None:
        if name == DEFAULT:
            raise ValidationError("Cannot delete event bus default.")
        if self.docs.get(BUS, scope, name, EventBus) is None:
            return  # deleting a bus that does not exist succeeds, as on AWS
        if self.docs.list(RULE, Rule, scope, parent=name, limit=1):
            raise ValidationError("EventBus can't be deleted since it has rules.")
        self.docs.delete(BUS, scope, name)

    def set_bus_tags(self, scope: Scope, name: str, tags: list[dict[str, str]]) -> None:
        self.docs.put(BUS, scope, name, dataclasses.replace(self.bus(scope, name), tags=tags))

    # rules -----------------------------------------------------------------------------------------------------
    def put_rule(self, scope: Scope, rule: Rule) -> Rule:
        bus = bus_name(rule.event_bus_name)
        if not self.bus_exists(scope, bus):
            raise NotFound(f"Event bus {bus} does not exist.")
        _check_rule(rule, bus)
        now = self.clock.now()
        previous = self.find(scope, rule.name, bus)
        saved = dataclasses.replace(
            rule,
            event_bus_name=bus,
            arn=rule_arn(scope, bus, rule.name),
            created_by=scope.account,
            created_at=previous.created_at if previous else now,
            schedule_set_at=_schedule_set_at(previous, rule, now),
            enabled_at=_enabled_at(previous, rule, now),
            tags=rule.tags if rule.tags is not None else (previous.tags if previous else None),
        )
        self.docs.put(RULE, scope, rule_key(bus, rule.name), saved, parent=_parent(bus))
        self._changed(scope, bus, rule.name)
        return saved

    def find(self, scope: Scope, name: str, bus: str = DEFAULT) -> Rule | None:
        return self.docs.get(RULE, scope, rule_key(bus, name), Rule)

    def rule(self, scope: Scope, name: str, bus: str = DEFAULT) -> Rule:
        found = self.find(scope, name, bus)
        if found is None:
            if not self.bus_exists(scope, bus):
                raise NotFound(f"Event bus {bus} does not exist.")
            raise NotFound(f"Rule {name} does not exist on EventBus {bus}.")
        return found

    def rule_of_arn(self, arn: str) -> Rule | None:
        """The rule an ARN names, in the account, Region and bus of the ARN."""
        found = rule_of_arn(arn)
        return None if found is None else self.find(found[0], found[2], found[1])

    def list_rules(
        self, scope: Scope, prefix: str = "", after: str = "", limit: int = 100, bus: str = DEFAULT
    ) -> list[Rule]:
        if not self.bus_exists(scope, bus):
            raise NotFound(f"Event bus {bus} does not exist.")
        start = rule_key(bus, after) if after else ""
        return self.docs.list(
            RULE, Rule, scope, parent=_parent(bus), prefix=rule_key(bus, prefix), after=start, limit=limit
        )

    def rules_on(self, scope: Scope, bus: str) -> list[Rule]:
        """Every rule on a bus (routing builds its index from them)."""
        return self.docs.list(RULE, Rule, scope, parent=_parent(bus))

    def iter_rules(self) -> Iterator[Rule]:
        """Every rule of every account and Region, read a page at a time (planning a million rules never holds
        them all)."""
        return self.docs.iter_all(RULE, Rule)

    def delete_rule(self, scope: Scope, name: str, force: bool = False, bus: str = DEFAULT) -> None:
        key = rule_key(bus, name)
        if self.docs.get(RULE, scope, key, Rule) is None:
            return
        if self.targets(scope, name, bus) and not force:
            raise ValidationError("Rule can't be deleted since it has targets.")
        self.docs.delete_children(TARGET, scope, key)
        self.docs.delete(RULE, scope, key)
        self._changed(scope, bus, name)

    def set_state(self, scope: Scope, name: str, enabled: bool, bus: str = DEFAULT) -> Rule:
        rule = self.rule(scope, name, bus)
        state = "ENABLED" if enabled else "DISABLED"
        if rule.state != state:
            rule = dataclasses.replace(rule, state=state, enabled_at=self.clock.now() if enabled else rule.enabled_at)
            self.docs.put(RULE, scope, rule_key(bus, name), rule, parent=_parent(bus))
            self._changed(scope, bus, name)
        return rule

    def set_tags(self, scope: Scope, name: str, tags: list[dict[str, str]], bus: str = DEFAULT) -> None:
        rule = dataclasses.replace(self.rule(scope, name, bus), tags=tags)
        self.docs.put(RULE, scope, rule_key(bus, name), rule, parent=_parent(bus))

    def put_targets(
        self, scope: Scope, name: str, targets: Sequence[Target], bus: str = DEFAULT
    ) -> list[tuple[str, str, str]]:
        """Add or replace targets; returns failed entries as (target id, error code, message)."""
        for target in targets:
            _check_target_arn(target)
        self.rule(scope, name, bus)
        key = rule_key(bus, name)
        existing = {t.id for t in self.targets(scope, name, bus)}
        if len(existing | {t.id for t in targets}) > MAX_TARGETS:
            raise AwsError("The requested resource exceeds the maximum number allowed.", "LimitExceededException")
        for target in targets:
            check_target_input(target.id, target.input, target.input_path, target.input_transformer)
        failed: list[tuple[str, str, str]] = []
        for target in targets:
            problem = _target_problem(target)
            if problem:
                failed.append((target.id, "ValidationException", problem))
                continue
            self.docs.put(TARGET, scope, f"{key}\x00{target.id}", target, parent=key)
        self._changed(scope, bus, name)
        return failed

    def targets(self, scope: Scope, name: str, bus: str = DEFAULT) -> list[Target]:
        return self.docs.list(TARGET, Target, scope, parent=rule_key(bus, name))

    def targets_of(self, scope: Scope, keys: Sequence[str]) -> dict[str, list[Target]]:
        """The targets of many rules of one account and Region at once, by rule key (rule_key(bus, name))."""
        return self.docs.children(TARGET, Target, scope, keys)

    def remove_targets(
        self, scope: Scope, name: str, ids: Sequence[str], bus: str = DEFAULT
    ) -> list[tuple[str, str, str]]:
        self.rule(scope, name, bus)
        key = rule_key(bus, name)
        for target_id in ids:
            self.docs.delete(TARGET, scope, f"{key}\x00{target_id}")
        self._changed(scope, bus, name)
        return []

    def targets_on(self, scope: Scope, bus: str) -> dict[str, list[Target]]:
        """Every rule's targets on a bus, by rule name, in one read."""
        grouped = self.docs.by_parent(TARGET, Target, scope)
        prefix = "" if bus == DEFAULT else f"{bus}\x01"
        return {
            key[len(prefix) :]: targets
            for key, targets in grouped.items()
            if (key.startswith(prefix) if prefix else "\x01" not in key)
        }

    def rule_names_by_target(self, scope: Scope, target_arn: str, bus: str = DEFAULT) -> list[str]:
        return sorted(
            {r.name for r in self.rules_on(scope, bus) for t in self.targets(scope, r.name, bus) if t.arn == target_arn}
        )


def _parent(bus: str) -> str:
    """Rules on the default bus have no parent (as before buses existed); others have their bus."""
    return "" if bus == DEFAULT else bus


def _check_rule(rule: Rule, bus: str) -> None:
    if not rule.schedule_expression and not rule.event_pattern:
        raise ValidationError("Parameter(s) EventPattern or ScheduleExpression must be specified.")
    if rule.schedule_expression:
        if bus != DEFAULT:
            raise ValidationError("ScheduleExpression is supported only on the default event bus.")
        try:
            parse(rule.schedule_expression, allow_at=False)
        except ScheduleError as err:
            log.info("PutRule %s refused: ScheduleExpression %r: %s", rule.name, rule.schedule_expression, err.detail)
            raise
    if rule.event_pattern:
        compile_pattern(rule.event_pattern)


def _schedule_set_at(previous: Rule | None, rule: Rule, now: float) -> float:
    if previous is not None and previous.schedule_expression == rule.schedule_expression:
        return previous.schedule_set_at
    return now


def _enabled_at(previous: Rule | None, rule: Rule, now: float) -> float:
    if previous is not None and previous.state == "ENABLED" and rule.state == "ENABLED":
        return previous.enabled_at
    return now


def _check_target_arn(target: Target) -> None:
    """What EventBridge refuses from the request alone, before it looks the rule up: an Arn that is not an ARN, a
    FIFO queue without the message group its messages need."""
    parsed = arns.parse(target.arn)
    if parsed is None or not parsed.resource:
        raise ValidationError(f"Parameter {target.arn} is not valid. Reason: Provided Arn is not in correct format.")
    fifo = parsed.service == "sqs" and parsed.resource.endswith(".fifo")
    if fifo and not (target.sqs_parameters or {}).get("MessageGroupId"):
        raise ValidationError(f"Parameter(s) SqsParameters must be specified for target: {target.id}.")


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
