"""Many patterns on one bus (PURE): indexed by the value a field must take, so an event meets only likely matches."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from cronbridge.events.pattern import EventPattern, FlatEvent

INDEXED_PATHS = ("source", "detail-type")


@dataclass
class PatternIndex:
    """Patterns by key; those that name the `source` (or `detail-type`) they need are found by that value."""

    by_value: dict[tuple[str, str], dict[Hashable, EventPattern]] = field(default_factory=dict)
    by_path: dict[str, dict[Hashable, EventPattern]] = field(default_factory=dict)
    unindexed: dict[Hashable, EventPattern] = field(default_factory=dict)
    where: dict[Hashable, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, key: Hashable, pattern: EventPattern) -> None:
        """Index by the strings `source` or `detail-type` must be, else by a path every event it matches has."""
        self.remove(key)
        for path in INDEXED_PATHS:
            values = pattern.required(path)
            if values:
                slots = [(path, value) for value in values]
                for slot in slots:
                    self.by_value.setdefault(slot, {})[key] = pattern
                self.where[key] = slots
                return
        needed = _needed_path(pattern)
        if needed is not None:
            self.by_path.setdefault(needed, {})[key] = pattern
            self.where[key] = [(needed, "")]
            return
        self.unindexed[key] = pattern
        self.where[key] = []

    def remove(self, key: Hashable) -> None:
        for path, value in self.where.pop(key, []):
            (self.by_value.get((path, value), {}) if value else self.by_path.get(path, {})).pop(key, None)
        self.unindexed.pop(key, None)

    def matching(self, event: FlatEvent) -> list[Hashable]:
        """The keys whose patterns match the event."""
        candidates: dict[Hashable, EventPattern] = dict(self.unindexed)
        for path in INDEXED_PATHS:
            for leaf, _ in event.values(path):
                if leaf.is_string:
                    candidates.update(self.by_value.get((path, leaf.text), {}))
        if self.by_path:
            for path in event.fields:
                found = self.by_path.get(path)
                if found:
                    candidates.update(found)
        return [key for key, pattern in candidates.items() if pattern.matches(event)]

    def __len__(self) -> int:
        """How many patterns are indexed."""
        return len(self.where)

    @classmethod
    def of(cls, patterns: Iterable[tuple[Hashable, EventPattern]]) -> PatternIndex:
        index = cls()
        for key, pattern in patterns:
            index.add(key, pattern)
        return index


def _needed_path(pattern: EventPattern) -> str | None:
    """A path every sub-rule needs (the longest: the least likely to be in every event), or None."""
    if not pattern.needs or not all(pattern.needs):
        return None
    common = set(pattern.needs[0]).intersection(*pattern.needs[1:])
    return max(common, key=lambda p: (len(p), p)) if common else None
