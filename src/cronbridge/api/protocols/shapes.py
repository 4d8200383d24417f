"""Request validation driven by botocore's service models: required members, types, lengths, ranges."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from itertools import repeat
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from cronbridge.errors import AwsError

_SESSION = botocore.session.get_session()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of a service (e.g. 'ecs', 'events', 'logs')."""
    return _SESSION.get_service_model(name)


def operation(service: str, name: str) -> OperationModel | None:
    """The named operation of a service, or None (only known names are cached: a caller chooses `name`)."""
    return _operation(service, name) if name in _names(service) else None


@functools.cache
def _names(service: str) -> frozenset[str]:
    return frozenset(service_model(service).operation_names)


@functools.cache
def _operation(service: str, name: str) -> OperationModel:
    return service_model(service).operation_model(name)


MAX_PROBLEMS = 10  # constraint messages gathered and quoted: a list of 20,000 wrong items is not 20,000 messages
_SCALARS: dict[str, frozenset[type]] = {  # exact JSON-decoded types (bool is not an integer here)
    "string": frozenset({str}),
    "boolean": frozenset({bool}),
    "integer": frozenset({int}),
    "long": frozenset({int}),
    "float": frozenset({int, float}),
    "double": frozenset({int, float}),
    "timestamp": frozenset({int, float, str}),
    "blob": frozenset({str}),
}


Path = tuple[Any, str] | None
"""Where a value sits, as (parent path, segment): rendered to 'a.b.1.member' only when a problem is found."""
Checker = Callable[[Any, Path, list[str]], None]


def validate(op: OperationModel, params: Any, error_code: str) -> list[str]:
    """Check `params` against the operation's input shape; returns AWS-style constraint messages."""
    problems: list[str] = []
    shape = op.input_shape
    if shape is None:
        return problems
    if not isinstance(params, dict):
        raise AwsError("Start of structure or map found where not expected.", "SerializationException")
    _input_checker(op.service_model.service_name, op.name)(params, None, problems)
    return problems


# Services whose model `pattern`s are checked as AWS checks them: CloudWatch Logs answers a name that breaks its
# pattern with "Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+" (InvalidParameterException).
# Other services' models carry patterns their services do not check the same way (IAM's are checked in query.py).
PATTERNED = frozenset({"logs"})
# Members whose value AWS leaves out of a pattern message ("Value at 'logGroupIdentifier' failed to satisfy
# constraint: ...", as CloudWatch Logs answers an ARN ending in ':*' there; recorded against AWS by moto's
# aws_verified test_arn_formats_log_group_and_stream).
_UNQUOTED = frozenset({"logGroupIdentifier"})

# Members whose model is narrower than the service: SQS's ReceiveMessage takes message system attributes in its
# (deprecated) AttributeNames, e.g. SentTimestamp or MessageGroupId, though the model types it as queue attributes
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
# ECS's RegisterTaskDefinition answers a placement constraint of type distinctInstance with its own ClientException
# (`constraint.type 'distinctInstance' is not supported.`), not the model's enum message: ecs/placing.py checks them.
_UNCHECKED: dict[tuple[str, str], frozenset[str]] = {
    ("sqs", "ReceiveMessage"): frozenset({"AttributeNames"}),
    ("ecs", "RegisterTaskDefinition"): frozenset({"placementConstraints"}),
}


@functools.cache
def _input_checker(service: str, operation_name: str) -> Checker:
    """The operation's input checker, compiled once from the model (shapes may recurse)."""
    op = service_model(service).operation_model(operation_name)
    unchecked = _UNCHECKED.get((service, operation_name), frozenset())
    return _structure(op.input_shape, {}, service in PATTERNED, unchecked)


def render(path: Path) -> str:
    parts: list[str] = []
    while path is not None:
        path, segment = path
        parts.append(segment)
    return ".".join(reversed(parts))


def _compile(shape: Shape, memo: dict[str, Checker], patterns: bool) -> Checker:
    if shape.name in memo:
        return lambda value, path, problems: memo[shape.name](value, path, problems)
    memo[shape.name] = _noop
    if isinstance(shape, StructureShape):
        checker = _structure(shape, memo, patterns)
    elif isinstance(shape, ListShape):
        checker = _list(shape, memo, patterns)
    elif isinstance(shape, MapShape):
        checker = _map(shape, memo, patterns)
    else:
        checker = _scalar(shape, patterns)
    memo[shape.name] = checker
    return checker


def _noop(value: Any, path: Path, problems: list[str]) -> None:
    return None


def _structure(
    shape: StructureShape, memo: dict[str, Checker], patterns: bool, unchecked: frozenset[str] = frozenset()
) -> Checker:
    required = tuple(shape.required_members)
    members = {
        name: _compile(member, memo, patterns) for name, member in shape.members.items() if name not in unchecked
    }

    def check(value: Any, path: Path, problems: list[str]) -> None:
        if not isinstance(value, dict):
            problems.append(f"Value at '{render(path)}' failed to satisfy constraint: Member must be a structure")
            return
        for name in required:
            if value.get(name) is None:
                _null((path, name), problems)
        for name, item in value.items():
            member = members.get(name)
            if member is not None and item is not None:
                member(item, (path, name), problems)

    return check


def _null(path: Path, problems: list[str]) -> None:
    problems.append(f"Value null at '{render(path)}' failed to satisfy constraint: Member must not be null")


def _list(shape: ListShape, memo: dict[str, Checker], patterns: bool) -> Checker:
    item_checker = _compile(shape.member, memo, patterns)
    length = _length(shape)
    all_valid = _flat_items(shape.member, patterns) if isinstance(shape.member, StructureShape) else None

    def check(value: Any, path: Path, problems: list[str]) -> None:
        if not isinstance(value, list):
            problems.append(f"Value at '{render(path)}' failed to satisfy constraint: Member must be a list")
            return
        before = len(problems)
        length(len(value), path, problems, None)
        if len(problems) > before:  # a list of the wrong length: its items are not worth checking one by one
            return
        if all_valid is not None and all_valid(value):
            return  # the common case of a long list (PutLogEvents' 10,000 events): one pass per member, no paths
        for i, item in enumerate(value):
            if len(problems) >= MAX_PROBLEMS:
                return
            if item is None:
                _null((path, f"{i + 1}.member"), problems)
            else:
                item_checker(item, (path, f"{i + 1}.member"), problems)

    return check


def _flat_items(shape: StructureShape, patterns: bool) -> Callable[[list[Any]], bool] | None:
    """For a structure whose members are all scalars: a quick test that every item of a list of them is valid, one
    member at a time over the whole list with C-level builtins (the item-by-item checker then runs only to word
    what is wrong); None for other structures."""
    tests: list[tuple[str, bool, Callable[[list[Any]], bool]]] = []
    required = set(shape.required_members)
    for name, member in shape.members.items():
        test = None if patterns and member.metadata.get("pattern") else _scalars_test(member)
        if test is None:
            return None
        tests.append((name, name in required, test))

    def all_valid(items: list[Any]) -> bool:
        if not items or set(map(type, items)) != {dict}:
            return not items
        for name, needed, test in tests:
            values = list(map(dict.get, items, repeat(name)))  # C-level: no Python step per item
            if None in values:
                if needed:
                    return False
                values = [v for v in values if v is not None]
            if values and not test(values):
                return False
        return True

    return all_valid


def _scalars_test(shape: Shape) -> Callable[[list[Any]], bool] | None:
    """A scalar shape's constraints as a test of a whole list of values (none of them None); None for shapes that
    are not plain scalars."""
    kinds = _SCALARS.get(shape.type_name)
    if kinds is None or shape.type_name == "boolean" or (shape.type_name == "string" and shape.enum):
        return None
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if shape.type_name == "string":
        return lambda values: (
            set(map(type, values)) == {str}
            and (not low or min(map(len, values)) >= low)
            and (high is None or max(map(len, values)) <= high)
        )
    if shape.type_name in ("integer", "long"):
        return lambda values: (
            set(map(type, values)) == {int}
            and (low is None or min(values) >= low)
            and (high is None or max(values) <= high)
        )
    return lambda values: set(map(type, values)) <= kinds


def _map(shape: MapShape, memo: dict[str, Checker], patterns: bool) -> Checker:
    value_checker = _compile(shape.value, memo, patterns)

    def check(value: Any, path: Path, problems: list[str]) -> None:
        if not isinstance(value, dict):
            problems.append(f"Value at '{render(path)}' failed to satisfy constraint: Member must be a map")
            return
        for key, item in value.items():
            if item is None:
                _null((path, str(key)), problems)
            else:
                value_checker(item, (path, str(key)), problems)

    return check


def _scalar(shape: Shape, patterns: bool) -> Checker:
    type_name = shape.type_name
    kinds = _SCALARS.get(type_name)
    if kinds is None:
        return _noop
    pattern = shape.metadata.get("pattern") if patterns and type_name == "string" else None
    length = _length(shape) if type_name == "string" else None
    enum = frozenset(shape.enum) if type_name == "string" and shape.enum else None
    enum_text = ", ".join(shape.enum) if enum else ""
    ranged = _range(shape) if type_name in ("integer", "long") else None
    allow_bool = type_name == "boolean"

    def check(value: Any, path: Path, problems: list[str]) -> None:
        if type(value) not in kinds or (not allow_bool and type(value) is bool):
            problems.append(
                f"Value '{shown(repr(value))}' at '{render(path)}' failed to satisfy constraint: "
                f"Member must be of type {type_name}"
            )
            return
        if pattern is not None and not matches(pattern, value):
            quoted = "" if path is not None and path[1] in _UNQUOTED else f" '{shown(value)}'"
            problems.append(
                f"Value{quoted} at '{render(path)}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
        if length is not None:
            length(len(value), path, problems, value)
        if enum is not None and value not in enum:
            problems.append(
                f"Value '{shown(value)}' at '{render(path)}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{enum_text}]"
            )
        if ranged is not None:
            ranged(value, path, problems)

    return check


def _length(shape: Shape) -> Callable[[int, Path, list[str], str | None], None]:
    """A length check; a string's message quotes the value as AWS's does (`Value 'x' at 'name' ...`)."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check(length: int, path: Path, problems: list[str], text: str | None) -> None:
        value = "" if text is None else f" '{shown(text)}'"
        if low is not None and length < low:
            problems.append(
                f"Value{value} at '{render(path)}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {low}"
            )
        if high is not None and length > high:
            problems.append(
                f"Value{value} at '{render(path)}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {high}"
            )

    return check


def _range(shape: Shape) -> Callable[[int, Path, list[str]], None]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")

    def check(value: int, path: Path, problems: list[str]) -> None:
        if low is not None and value < low:
            problems.append(
                f"Value '{shown(value)}' at '{render(path)}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {low}"
            )
        if high is not None and value > high:
            problems.append(
                f"Value '{shown(value)}' at '{render(path)}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {high}"
            )

    return check


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.ASCII)
    except re.error:  # a Java-only construct (\p{L}): not checked
        return None


def matches(pattern: str, value: str) -> bool:
    """Whether `value` is whole-matched by a model `pattern` (true for a pattern Python cannot read)."""
    compiled = _compiled(pattern)
    return compiled is None or compiled.fullmatch(value) is not None


def shown(value: object, limit: int = 1024) -> str:
    """A value as an error message quotes it: at most `limit` characters (a megabyte is not echoed back)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def validation_message(problems: list[str]) -> str:
    """AWS's summary: '1 validation error detected: ...' / 'N validation errors detected: a; b' (the first
    MAX_PROBLEMS of them)."""
    n = len(problems)
    noun = "error" if n == 1 else "errors"
    return f"{n} validation {noun} detected: " + "; ".join(problems[:MAX_PROBLEMS])
