"""Where fire times come from: a Plan per rule or schedule (key, ARN, next slot, targets), yielded by Sources."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from cronbridge import scope as scopes
from cronbridge.events.service import EventsService, rule_key
from cronbridge.model.events import Rule, Target
from cronbridge.schedule import parse
from cronbridge.scope import HOME, Scope

PLAN_PAGE = 1000  # rules planned per page: their targets (and their last slots) are read in one query each


@dataclass(frozen=True)
class Plan:
    """One enabled rule or schedule as the engine sees it: what to fire, when, and with which targets.

    `key` is unique across sources ("rule:ARN", "schedule:ARN": the ARN carries the account and Region); `name`
    is what the invocation log records; `start` anchors rates; `not_before` is the oldest instant a slot may have
    (set or re-enabled); `end` is the first instant no slot may have (EndDate); `window` the flexible window in
    seconds (0 = off)."""

    key: str
    arn: str
    name: str
    targets: tuple[Target, ...]
    started_by: str
    expression: str
    timezone: str = "UTC"
    start: float | None = None
    not_before: float = 0.0
    end: float | None = None
    window: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    def next_slot(self, after: float) -> float | None:
        """The first slot strictly after `after` (and before `end`)."""
        schedule = parse(self.expression, allow_at=True)
        start = self.start if schedule.kind == "rate" else None
        slot = schedule.next_after(after, self.timezone, start=start)
        if slot is None or (self.end is not None and slot >= self.end):  # EndDate: invoked only before it
            return None
        return slot

    def launch_at(self, slot: float) -> float:
        """When the slot launches: at the slot, or (flexible window) at a deterministic second inside the window,
        spread uniformly over [slot, slot + window) by a hash of (ARN, slot)."""
        if self.window <= 0:
            return slot
        digest = hashlib.sha256(f"{self.arn}|{slot:.3f}".encode()).digest()
        return slot + int.from_bytes(digest[:8], "big") % int(self.window)  # whole seconds into the window


class Source(Protocol):
    """A kind of schedulable thing (rules, schedules): its plans, one by name, what follows the last slot."""

    kind: str

    def plans(self) -> Iterable[Plan]:
        """Every enabled plan (`Plan.key` = f'{kind}:{arn}')."""
        ...

    def plan(self, arn: str) -> Plan | None:
        """The enabled plan of that ARN, or None (missing or disabled)."""
        ...

    def owns(self, arn: str) -> bool:
        """True when the ARN is of this source's kind (a rule, a schedule)."""
        ...

    def completed(self, plan: Plan) -> None:
        """The plan has no slot left after one just fired (one-time schedules, EndDate passed)."""
        ...


def rule_next_fire(rule: Rule, after: float) -> float | None:
    """A rule's first fire time strictly after `after` (rates count from when the schedule was set)."""
    if not rule.schedule_expression:
        return None
    schedule = parse(rule.schedule_expression, allow_at=False)
    start = rule.schedule_set_at if schedule.kind == "rate" else None
    return schedule.next_after(after, "UTC", start=start)


class RuleSource:
    """EventBridge scheduled rules on the default bus."""

    kind = "rule"

    def __init__(self, events: EventsService) -> None:
        self.events = events

    def plans(self) -> Iterable[Plan]:
        page: list[Rule] = []
        for rule in self.events.iter_rules():
            if rule.state == "ENABLED" and rule.schedule_expression:
                page.append(rule)
            if len(page) == PLAN_PAGE:
                yield from self._plans_of(page)
                page = []
        yield from self._plans_of(page)

    def _plans_of(self, rules: list[Rule]) -> Iterator[Plan]:
        """A page of rules as plans, their targets read in one query."""
        by_scope: dict[Scope, list[Rule]] = {}
        for rule in rules:
            by_scope.setdefault(scopes.of_arn(rule.arn) or HOME, []).append(rule)
        targets: dict[str, list[Target]] = {}
        for scope, some in by_scope.items():
            found = self.events.targets_of(scope, [rule_key(r.event_bus_name, r.name) for r in some])
            targets.update({r.arn: found[rule_key(r.event_bus_name, r.name)] for r in some})
        for rule in rules:
            yield self.plan_of(rule, targets[rule.arn])

    def plan(self, arn: str) -> Plan | None:
        rule = self.events.rule_of_arn(arn)
        if rule is None or rule.state != "ENABLED" or not rule.schedule_expression:
            return None
        return self.plan_of(rule)

    def owns(self, arn: str) -> bool:
        return ":events:" in arn and ":rule/" in arn

    def completed(self, plan: Plan) -> None:
        return None

    def plan_of(self, rule: Rule, targets: list[Target] | None = None) -> Plan:
        """The rule as a plan, enabled or not (run-now launches disabled rules too)."""
        return Plan(
            key=f"rule:{rule.arn}",
            arn=rule.arn,
            name=rule.name,
            targets=tuple(
                self.events.targets(scopes.of_arn(rule.arn) or HOME, rule.name, rule.event_bus_name)
                if targets is None else targets
            ),
            started_by=f"events-rule/{rule.name}"[:128],
            expression=rule.schedule_expression or "",
            start=rule.schedule_set_at,
            not_before=max(rule.enabled_at, rule.schedule_set_at),
            tags={t["Key"]: t["Value"] for t in rule.tags or [] if "Key" in t and "Value" in t},
        )
