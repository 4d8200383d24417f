"""A slow, literal reading of the event-pattern semantics, to check the compiled matcher against (tests only).

It works on the pattern as parsed JSON and on the event's leaves, tries every combination of values by brute
force, and tests each value by re-reading the operator each time: nothing is compiled or shared with the matcher.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from decimal import Decimal
from typing import Any


class Num(str):
    """A JSON number, as its text."""


def load(text: str) -> Any:
    return json.loads(text, parse_int=Num, parse_float=Num)


def reference_matches(pattern: dict[str, Any], event_text: str) -> bool:
    leaves = list(_leaves(load(event_text), "", ()))
    return any(_sub_rule(sorted(rule.items()), leaves) for rule in _expand(pattern, ""))


def _expand(obj: dict[str, Any], prefix: str) -> list[dict[str, list[Any]]]:
    """The pattern's `$or` branches, multiplied out, as {dotted path: value list}; later keys override."""
    rules: list[dict[str, list[Any]]] = [{}]
    for key, value in obj.items():
        if key == "$or":
            alternatives = [branch for option in value for branch in _expand(option, prefix)]
            rules = [{**rule, **alt} for rule in rules for alt in alternatives]
        elif isinstance(value, dict):
            rules = [{**rule, **sub} for rule in rules for sub in _expand(value, f"{prefix}{key}.")]
        else:
            rules = [{**rule, f"{prefix}{key}": value} for rule in rules]
    return rules


def _leaves(node: Any, path: str, membership: tuple[tuple[int, int], ...]) -> Any:
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _leaves(child, f"{path}.{key}" if path else key, membership)
    elif isinstance(node, list):
        array_id = id(node)
        for index, child in enumerate(node):
            yield from _leaves(child, path, (*membership, (array_id, index)))
    elif path:
        yield path, node, membership


def _sub_rule(fields: list[tuple[str, list[Any]]], leaves: list[Any]) -> bool:
    options = []
    for path, patterns in fields:
        found = [(value, m) for p, value, m in leaves if p == path]
        choices: list[Any] = [("value", value, m) for value, m in found if any(_test(x, value) for x in patterns)]
        if {"exists": False} in patterns:
            choices.append(("absent", None, ()))
        options.append(choices)
    return any(_assignment_holds(fields, combo, leaves) for combo in itertools.product(*options))


def _assignment_holds(fields: list[tuple[str, list[Any]]], combo: Any, leaves: list[Any]) -> bool:
    chosen: dict[int, int] = {}
    for (path, _), (kind, _, membership) in zip(fields, combo, strict=True):
        if kind == "absent":
            if any(p == path and _agrees(chosen, m) for p, _, m in leaves):
                return False
            continue
        if not _agrees(chosen, membership):
            return False
        chosen.update(dict(membership))
    return True


def _agrees(chosen: dict[int, int], membership: tuple[tuple[int, int], ...]) -> bool:
    return all(chosen.get(a, i) == i for a, i in membership)


# one value against one pattern item --------------------------------------------------------------------------


def _micro(text: str) -> int | None:
    value = Decimal(text)
    if abs(value) > Decimal("5e9"):
        return None
    return int(value * 1_000_000)  # int() truncates toward zero


def _ip(text: str) -> Any:
    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9a-fA-F:]*:[0-9a-fA-F:]*", text):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, Num)


def _fold_equal(a: str, b: str) -> bool:
    return len(a) == len(b) and all(x in (y, y.lower(), y.upper()) for x, y in zip(a, b, strict=True))


def _wild(pattern: str, value: str) -> bool:
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            regex += re.escape(pattern[i + 1])
            i += 2
            continue
        regex += ".*" if pattern[i] == "*" else re.escape(pattern[i])
        i += 1
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _test(item: Any, value: Any) -> bool:
    if isinstance(item, Num):
        if not isinstance(value, Num):
            return False
        a, b = _micro(item), _micro(value)
        return item == value or (a is not None and a == b)
    if _is_str(item):
        if _ip(item) is not None:
            return _is_str(value) and _ip(value) == _ip(item)
        return _is_str(value) and value == item
    if item is None or isinstance(item, bool):
        return value is item
    return _operator(*next(iter(item.items())), value)


def _operator(name: str, arg: Any, value: Any) -> bool:
    if name == "exists":
        return arg is True
    if name == "numeric":
        return isinstance(value, Num) and _in_range(arg, value)
    if name == "anything-but":
        return _anything_but(arg, value)
    if not _is_str(value):
        return False
    if name == "cidr":
        ip = _ip(value)
        return ip is not None and ip in ipaddress.ip_network(arg, strict=False)
    return _string_operator(name, arg, value)


def _string_operator(name: str, arg: Any, value: str) -> bool:
    if isinstance(arg, dict):  # prefix / suffix with equals-ignore-case
        inner = arg["equals-ignore-case"]
        part = value[: len(inner)] if name == "prefix" else value[len(value) - len(inner) :]
        return len(value) >= len(inner) and _fold_equal(part, inner)
    if name == "prefix":
        return value.startswith(arg)
    if name == "suffix":
        return value.endswith(arg)
    if name == "equals-ignore-case":
        return _fold_equal(value, arg)
    if name == "wildcard":
        return _wild(arg, value)
    raise AssertionError(name)


def _in_range(terms: list[Any], value: str) -> bool:
    number = _micro(value)
    if number is None:
        return False
    ops = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return all(ops[terms[i]](number, _micro(terms[i + 1])) for i in range(0, len(terms), 2))


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        name, inner = next(iter(arg.items()))
        texts = inner if isinstance(inner, list) else [inner]
        return not (_is_str(value) and any(_string_operator(name, t, value) for t in texts))
    excluded = arg if isinstance(arg, list) else [arg]
    if _is_str(value):
        return value not in [x for x in excluded if _is_str(x)]
    if isinstance(value, Num) and _micro(value) is not None:
        return _micro(value) not in [_micro(x) for x in excluded if isinstance(x, Num)]
    return True
