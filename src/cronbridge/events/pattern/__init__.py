"""EventBridge event patterns (PURE): EventBridge's refusals, a matcher compiled once per pattern, flattened events."""

from __future__ import annotations

from dataclasses import dataclass

from cronbridge.errors import AwsError
from cronbridge.events.pattern.compiler import Step, SubRule, compile_rules
from cronbridge.events.pattern.flat import FlatEvent
from cronbridge.events.pattern.jackson import PatternSyntaxError
from cronbridge.events.pattern.match import rule_matches

__all__ = ["EventPattern", "FlatEvent", "InvalidEventPattern", "compile_pattern"]


class InvalidEventPattern(AwsError):
    """EventBridge's InvalidEventPatternException."""

    code = "InvalidEventPatternException"


@dataclass(frozen=True)
class EventPattern:
    """A compiled pattern: it matches an event when any of its sub-rules (one per `$or` branch) does."""

    text: str
    rules: tuple[SubRule, ...]
    needs: tuple[tuple[str, ...], ...] = ()  # per sub-rule, the paths an event must have for it to match

    def matches(self, event: FlatEvent) -> bool:
        fields = event.fields
        needs = self.needs or ((),) * len(self.rules)
        return any(
            all(path in fields for path in need) and rule_matches(rule, event)
            for rule, need in zip(self.rules, needs, strict=True)
        )

    def matches_text(self, event_json: str) -> bool:
        return self.matches(FlatEvent.from_text(event_json))

    def required(self, path: str) -> frozenset[str] | None:
        """The strings `path` must equal in every sub-rule (an index key), or None when it is not so bound."""
        found: set[str] = set()
        for rule in self.rules:
            step = _step(rule, path)
            if step is None or step.exact is None:
                return None
            found |= step.exact
        return frozenset(found)


def compile_pattern(text: str) -> EventPattern:
    """Compile a pattern once; InvalidEventPattern with EventBridge's message when it is refused."""
    try:
        rules = tuple(compile_rules(text))
        return EventPattern(text, rules, tuple(_needs(rule) for rule in rules))
    except PatternSyntaxError as error:
        raise InvalidEventPattern(f"Event pattern is not valid. Reason: {error.reason}{error.location}") from None


def _needs(rule: SubRule) -> tuple[str, ...]:
    """Paths without which the sub-rule cannot match: every field that is not satisfied by absence."""
    return tuple(step.path for step in rule if not step.absent_ok)


def _step(rule: SubRule, path: str) -> Step | None:
    return next((step for step in rule if step.path == path), None)
