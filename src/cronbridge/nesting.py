"""PURE. Limits on decoded JSON/CBOR values before anything recurses over them: nesting depth, lone surrogates."""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator
from functools import partial
from itertools import chain, compress
from typing import Any

MAX_DEPTH = 64  # deeper than any AWS request shape served here (ECS task definitions reach 6)
_CONTAINERS = frozenset({dict, list})  # exactly what json.loads and cbor2 make of objects and arrays
_is_dict = partial(operator.is_, dict)  # of a type: C-level predicates for map()
_is_list = partial(operator.is_, list)


def levels(value: Any) -> Iterator[list[Any]]:
    """The objects and lists of a decoded value, one nesting level at a time (the value itself first). Each level is
    gathered by C-level builtins (map, compress, chain), with no Python step per item: a request of 10,000 log
    events is walked in two levels, not 20,000 iterations."""
    level = [value] if type(value) in _CONTAINERS else []
    while level:
        yield level
        children = _children(level)
        level = list(compress(children, map(_CONTAINERS.__contains__, map(type, children))))


def survey(value: Any, limit: int = MAX_DEPTH) -> tuple[bool, bool]:
    """(whether lists and objects nest more than `limit` levels, whether a float is found on the way): one walk."""
    level = [value] if type(value) in _CONTAINERS else []
    floats = False
    for _ in range(limit):
        if not level:
            return False, floats
        children = _children(level)
        kinds = list(map(type, children))
        floats = floats or float in set(kinds)
        level = list(compress(children, map(_CONTAINERS.__contains__, kinds)))
    return bool(level), floats


def _children(level: list[Any]) -> list[Any]:
    """The members of a level's objects and the items of its lists."""
    kinds = list(map(type, level))
    dicts = compress(level, map(_is_dict, kinds))
    lists = compress(level, map(_is_list, kinds))
    return list(chain(chain.from_iterable(map(dict.values, dicts)), chain.from_iterable(lists)))


def objects(level: list[Any]) -> list[dict[Any, Any]]:
    """The objects (dicts) of one level."""
    return list(compress(level, map(_is_dict, map(type, level))))


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists and objects nest more than `limit` levels (checked without recursion)."""
    return survey(value, limit)[0]


def lone_surrogate(value: Any) -> str | None:
    """The first string (key or value) holding a UTF-16 surrogate without its pair, which no UTF-8 store can keep."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads(text: str | bytes) -> Any:
    """json.loads for text a client sent: ValueError (as for any malformed JSON) when it nests deeper than MAX_DEPTH."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if too_deep(value):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value
