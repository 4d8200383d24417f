"""Dataclasses to and from plain JSON-able dicts, with a pluggable key spelling (snake, camelCase, PascalCase)."""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar, Union

T = TypeVar("T")
Namer = Callable[[str], str]


def snake(name: str) -> str:
    """The field name as it is."""
    return name


def camel(name: str) -> str:
    """`log_configuration` -> `logConfiguration`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def pascal(name: str) -> str:
    """`schedule_expression` -> `ScheduleExpression`."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def wire_name(f: dataclasses.Field[Any], namer: Namer) -> str:
    """A field's external name: an explicit `wire` alias in its metadata wins over the namer."""
    alias = f.metadata.get("wire")
    return alias if alias and namer is not snake else namer(f.name)


def encode(value: Any, namer: Namer = snake, drop_none: bool = True) -> Any:
    """Turn a dataclass tree into dicts/lists/scalars; keys spelled by `namer`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None and drop_none:
                continue
            out[wire_name(f, namer)] = encode(item, namer, drop_none)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [encode(v, namer, drop_none) for v in value]
    if isinstance(value, dict):
        return {k: encode(v, namer, drop_none) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[T], data: Any, namer: Namer = snake) -> T:
    """Build `cls` (a dataclass) from a dict whose keys are spelled by `namer`; unknown keys are ignored."""
    return typing.cast(T, _decode(cls, data, namer))


def _decode(tp: Any, data: Any, namer: Namer) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner[0], data, namer) if len(inner) == 1 else data
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_dataclass(tp, data, namer)
    if origin in (list, tuple):
        args = typing.get_args(tp)
        items = [_decode(args[0] if args else Any, v, namer) for v in data]
        return items if origin is list else tuple(items)
    if origin is dict:
        args = typing.get_args(tp)
        return {k: _decode(args[1], v, namer) for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    return data


def _decode_dataclass(cls: type, data: dict[str, Any], namer: Namer) -> Any:
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = wire_name(f, namer)
        if key in data:
            kwargs[f.name] = _decode(hints[f.name], data[key], namer)
    return cls(**kwargs)
