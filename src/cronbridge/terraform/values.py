"""Values as Terraform sees them: unknown (known after apply), type constraints and conversions."""

from __future__ import annotations

import json
from typing import Any

Type = Any
"""A type constraint: "string" | "number" | "bool" | "any" | ("list"|"set"|"map", T) |
("object", {name: T}) | ("tuple", [T...]) | ("optional", T)."""


class Unknown:
    """A value that will be known only after apply (e.g. the ARN of a resource to create)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"


UNKNOWN = Unknown()


def is_unknown(value: Any) -> bool:
    """True when the value, or anything inside it, is unknown."""
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return False


def type_name(value: Any) -> str:
    """Terraform's name for the type of a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "tuple"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def describe(type_: Type) -> str:
    """A type constraint in words, as Terraform writes it ("list of string")."""
    if isinstance(type_, str):
        return type_
    kind, inner = type_
    if kind in ("list", "set", "map"):
        return f"{kind} of {describe(inner)}"
    if kind == "optional":
        return describe(inner)
    return kind


def to_string(value: Any) -> str:
    """Convert a primitive to a string; raise ValueError for collections and null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return format_number(value)
    raise ValueError(f"cannot convert {type_name(value)} to string")


def format_number(value: float | int) -> str:
    """Numbers as Terraform prints them: integers without a decimal point."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_number(value: Any) -> int | float:
    """Convert a number or numeric string to a number; raise ValueError otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"cannot convert {type_name(value)} to number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f'cannot convert "{value}" to number') from None
        return int(number) if number.is_integer() and "." not in value else number
    raise ValueError(f"cannot convert {type_name(value)} to number")


def to_bool(value: Any) -> bool:
    """Convert a bool or "true"/"false" to a bool; raise ValueError otherwise."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError(f"cannot convert {type_name(value)} to bool")


def convert(value: Any, type_: Type) -> Any:
    """Convert a value to a type constraint as Terraform does; raise ValueError with the reason."""
    if value is None or value is UNKNOWN or type_ == "any":
        return value
    if isinstance(type_, str):
        return {"string": to_string, "number": to_number, "bool": to_bool}[type_](value)
    kind, inner = type_
    if kind == "optional":
        return convert(value, inner)
    if kind in ("list", "set"):
        return _convert_list(value, inner, kind)
    if kind == "map":
        return _convert_map(value, inner)
    if kind == "object":
        return _convert_object(value, inner)
    return _convert_tuple(value, inner)


def _convert_list(value: Any, inner: Type, kind: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{kind} of {describe(inner)} required, got {type_name(value)}")
    items = [convert(v, inner) for v in value]
    if kind == "set":
        unique: list[Any] = []
        for item in items:
            if item not in unique:
                unique.append(item)
        return unique
    return items


def _convert_map(value: Any, inner: Type) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"map of {describe(inner)} required, got {type_name(value)}")
    return {k: convert(v, inner) for k, v in value.items()}


def _convert_object(value: Any, attrs: dict[str, Type]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"object required, got {type_name(value)}")
    out: dict[str, Any] = {}
    for name, attr_type in attrs.items():
        optional = isinstance(attr_type, tuple) and attr_type[0] == "optional"
        if name not in value and not optional:
            raise ValueError(f'attribute "{name}" is required')
        out[name] = convert(value.get(name), attr_type)
    return out


def _convert_tuple(value: Any, types: list[Type]) -> list[Any]:
    if not isinstance(value, list) or len(value) != len(types):
        raise ValueError(f"tuple of {len(types)} elements required")
    return [convert(v, t) for v, t in zip(value, types, strict=True)]


def json_text(value: Any, unknown_text: str | None = None) -> str:
    """jsonencode: compact JSON; unknowns become `unknown_text` (lenient mode) or raise."""

    def default(obj: Any) -> Any:
        if obj is UNKNOWN and unknown_text is not None:
            return unknown_text
        raise ValueError("value is not known yet")

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, separators=(",", ":"), default=default, ensure_ascii=False)
