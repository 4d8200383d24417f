"""An event flattened once for every rule: each leaf under its dotted path, with the array elements it sits in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cronbridge.events.pattern import values as v

Membership = tuple[tuple[int, int], ...]  # (array id, element index) for every array enclosing the leaf


class _Number(str):
    """A JSON number kept as its text while parsing (so `300` and `300.0` stay distinguishable)."""


@dataclass
class FlatEvent:
    """path -> [(leaf, membership)], in document order."""

    fields: dict[str, list[tuple[v.Leaf, Membership]]] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str) -> FlatEvent:
        """Flatten an event's JSON text (ValueError when it is not JSON)."""
        document = json.loads(text, parse_int=_Number, parse_float=_Number, parse_constant=_refuse)
        return cls.from_document(document)

    @classmethod
    def from_document(cls, document: Any) -> FlatEvent:
        """Flatten an event already parsed into Python values (numbers keep Python's JSON spelling)."""
        flat = cls()
        counter = iter(range(1 << 62))
        for path, leaf, membership in _walk(document, "", (), counter):
            flat.fields.setdefault(path, []).append((leaf, membership))
        return flat

    def values(self, path: str) -> list[tuple[v.Leaf, Membership]]:
        return self.fields.get(path, [])


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _walk(
    node: Any, path: str, membership: Membership, counter: Iterator[int]
) -> Iterator[tuple[str, v.Leaf, Membership]]:
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _walk(child, f"{path}.{key}" if path else str(key), membership, counter)
    elif isinstance(node, list):
        array = next(counter)
        for index, child in enumerate(node):
            yield from _walk(child, path, (*membership, (array, index)), counter)
    elif path:
        yield path, leaf_of(node), membership


def leaf_of(value: Any) -> v.Leaf:
    if isinstance(value, _Number):
        return v.number(str(value))
    if isinstance(value, str):
        return v.string(value)
    if value is None:
        return v.literal("null")
    if isinstance(value, bool):
        return v.literal("true" if value else "false")
    return v.number(json.dumps(value))
