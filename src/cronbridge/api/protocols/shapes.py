"""Request validation driven by botocore's service models: required members, types, lengths, ranges."""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from cronbridge.errors import AwsError

_SESSION = botocore.session.get_session()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of a service (e.g. 'ecs', 'events', 'logs')."""
    return _SESSION.get_service_model(name)


@functools.cache
def operation(service: str, name: str) -> OperationModel | None:
    model = service_model(service)
    return model.operation_model(name) if name in model.operation_names else None


_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "blob": (str,),
}


def validate(op: OperationModel, params: Any, error_code: str) -> list[str]:
    """Check `params` against the operation's input shape; returns AWS-style constraint messages."""
    problems: list[str] = []
    shape = op.input_shape
    if shape is None:
        return problems
    if not isinstance(params, dict):
        raise AwsError("Start of structure or map found where not expected.", "SerializationException")
    _check(shape, params, "", problems)
    return problems


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if value is None:
        return
    if isinstance(shape, StructureShape):
        _check_structure(shape, value, path, problems)
    elif isinstance(shape, ListShape):
        _check_list(shape, value, path, problems)
    elif isinstance(shape, MapShape):
        _check_map(shape, value, path, problems)
    else:
        _check_scalar(shape, value, path, problems)


def _where(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check_structure(shape: StructureShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"Value at '{path}' failed to satisfy constraint: Member must be a structure")
        return
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(
                f"Value null at '{_where(path, name)}' failed to satisfy constraint: Member must not be null"
            )
    for name, member in shape.members.items():
        if name in value:
            _check(member, value[name], _where(path, name), problems)


def _check_list(shape: ListShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, list):
        problems.append(f"Value at '{path}' failed to satisfy constraint: Member must be a list")
        return
    _check_length(shape, len(value), path, problems)
    for i, item in enumerate(value):
        _check(shape.member, item, f"{path}.{i + 1}.member", problems)


def _check_map(shape: MapShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"Value at '{path}' failed to satisfy constraint: Member must be a map")
        return
    for key, item in value.items():
        _check(shape.value, item, f"{path}.{key}", problems)


def _check_scalar(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kinds = _SCALARS.get(shape.type_name)
    if kinds is None:
        return
    wrong = not isinstance(value, kinds) or (shape.type_name != "boolean" and isinstance(value, bool))
    if wrong:
        problems.append(
            f"Value '{value!r}' at '{path}' failed to satisfy constraint: Member must be of type {shape.type_name}"
        )
        return
    if shape.type_name == "string":
        _check_length(shape, len(value), path, problems)
        enum = shape.enum
        if enum and value not in enum:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
    elif shape.type_name in ("integer", "long"):
        _check_range(shape, value, path, problems)


def _check_length(shape: Shape, length: int, path: str, problems: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        problems.append(
            f"Value at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {low}"
        )
    if high is not None and length > high:
        problems.append(
            f"Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {high}"
        )


def _check_range(shape: Shape, value: int, path: str, problems: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        problems.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have value greater than or equal to {low}"
        )
    if high is not None and value > high:
        problems.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have value less than or equal to {high}"
        )


def validation_message(problems: list[str]) -> str:
    """AWS's summary: '1 validation error detected: ...' / 'N validation errors detected: a; b'."""
    n = len(problems)
    noun = "error" if n == 1 else "errors"
    return f"{n} validation {noun} detected: " + "; ".join(problems)
