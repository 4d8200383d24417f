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


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _fields(cls: type, namer: Namer) -> tuple[tuple[str, str], ...]:
    """(attribute, external key) of a dataclass's fields, computed once per class and spelling."""
    return tuple((f.name, wire_name(f, namer)) for f in dataclasses.fields(cls))


def encode(value: Any, namer: Namer = snake, drop_none: bool = True) -> Any:
    """Turn a dataclass tree into dicts/lists/scalars; keys spelled by `namer`."""
    kind = type(value)
    if kind in _SCALAR_TYPES:
        return value
    encoder = _ENCODERS.get((kind, namer, drop_none))
    if encoder is not None:
        return encoder(value)
    if hasattr(kind, "__dataclass_fields__"):
        encoder = _ENCODERS[(kind, namer, drop_none)] = _dataclass_encoder(kind, namer, drop_none)
        return encoder(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALAR_TYPES else encode(v, namer, drop_none) for v in value]
    if isinstance(value, dict):
        return {k: encode(v, namer, drop_none) for k, v in value.items()}
    return value


_ENCODERS: dict[tuple[type, Namer, bool], Callable[[Any], dict[str, Any]]] = {}


def _dataclass_encoder(cls: type, namer: Namer, drop_none: bool) -> Callable[[Any], dict[str, Any]]:
    """The encoder of one dataclass, written once as straight-line code (one test per field, no loop): tasks are
    encoded at every step of their lifecycle."""
    lines = ["def encode_one(value):", "    out = {}"]
    for name, key in _fields(cls, namer):
        lines += [
            f"    item = value.{name}",
            "    if item is not None:",
            f"        out[{key!r}] = item if type(item) in SCALARS else encode(item, namer, drop_none)",
        ]
        if not drop_none:
            lines += ["    else:", f"        out[{key!r}] = None"]
    lines.append("    return out")
    scope: dict[str, Any] = {"SCALARS": _SCALAR_TYPES, "encode": encode, "namer": namer, "drop_none": drop_none}
    exec("\n".join(lines), scope)  # field names are identifiers; keys are quoted by repr()
    return typing.cast(Callable[[Any], dict[str, Any]], scope["encode_one"])


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[T], data: Any, namer: Namer = snake) -> T:
    """Build `cls` (a dataclass) from a dict whose keys are spelled by `namer`; unknown keys are ignored."""
    return typing.cast(T, _decoder(typing.cast(Any, cls), namer)(data))


def _identity(data: Any) -> Any:
    return data


@functools.cache
def _decoder(tp: Any, namer: Namer) -> Callable[[Any], Any]:
    """A function turning plain data into `tp` (None stays None), built once per type and spelling."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decoder(inner[0], namer) if len(inner) == 1 else _identity
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_decoder(tp, namer)
    if origin in (list, tuple):
        args = typing.get_args(tp)
        item = _decoder(args[0], namer) if args else _identity
        if item is _identity:
            return (lambda data: None if data is None else list(data)) if origin is list else _tuple_of(_identity)
        return _list_of(item) if origin is list else _tuple_of(item)
    if origin is dict:
        value = _decoder(typing.get_args(tp)[1], namer)
        return lambda data: None if data is None else {k: None if v is None else value(v) for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda data: None if data is None else tp(data)
    return _identity


def _list_of(item: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda data: None if data is None else [None if v is None else item(v) for v in data]


def _tuple_of(item: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda data: None if data is None else tuple(None if v is None else item(v) for v in data)


def _dataclass_decoder(cls: type, namer: Namer) -> Callable[[Any], Any]:
    """The decoder of one dataclass; its fields' decoders are looked up on first use (types may recurse)."""
    plan: list[tuple[str, str, Callable[[Any], Any]]] = []

    def build(data: Any) -> Any:
        if data is None:
            return None
        if not plan:
            hints = _hints(cls)
            plan.extend((name, key, _decoder(hints[name], namer)) for name, key in _fields(cls, namer))
        kwargs: dict[str, Any] = {}
        for name, key, field_decoder in plan:
            if key in data:
                item = data[key]
                kwargs[name] = None if item is None else field_decoder(item)
        return cls(**kwargs)

    return build


def respell(cls: type, data: Any, namer: Namer) -> Any:
    """A dict that `encode(value)` wrote (keys as the fields are named) as `encode(value, namer)` would have written
    it, without building the dataclasses in between (a stored task shown on the wire: one pass instead of two)."""
    return _respeller(cls, namer)(data)


@functools.cache
def _respeller(tp: Any, namer: Namer) -> Callable[[Any], Any]:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _respeller(inner[0], namer) if len(inner) == 1 else _identity
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_respeller(tp, namer)
    if origin in (list, tuple):
        args = typing.get_args(tp)
        item = _respeller(args[0], namer) if args else _identity
        return _identity if item is _identity else (lambda data: [item(v) for v in data])
    if origin is dict:
        value = _respeller(typing.get_args(tp)[1], namer)
        return _identity if value is _identity else (lambda data: {k: value(v) for k, v in data.items()})
    return _identity


def _dataclass_respeller(cls: type, namer: Namer) -> Callable[[Any], Any]:
    plan: dict[str, tuple[str, Callable[[Any], Any]]] = {}

    def respelled(data: Any) -> Any:
        if not plan:
            hints = _hints(cls)
            wire = dict(_fields(cls, namer))
            plan.update({name: (wire[name], _respeller(hints[name], namer)) for name, _ in _fields(cls, snake)})
        out: dict[str, Any] = {}
        for key, value in data.items():
            entry = plan.get(key)
            if entry is not None and value is not None:
                out[entry[0]] = value if type(value) in _SCALAR_TYPES else entry[1](value)
        return out

    return respelled
