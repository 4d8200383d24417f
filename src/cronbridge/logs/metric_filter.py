"""Metric filters (PURE): which values a matching log event gives a metric, its dimensions, TestMetricFilter."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cronbridge.errors import InvalidParameter
from cronbridge.logs.filter import Delimited, JsonPattern, Pattern, parse, split_delimited

MAX_DIMENSIONS = 3
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_JSON_SELECTOR = re.compile(r"\$((?:\.[A-Za-z0-9_@\-]+|\[\d+\])+)")
_JSON_STEP = re.compile(r"\.([A-Za-z0-9_@\-]+)|\[(\d+)\]")
_FIELD = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_MISSING = object()


@dataclass(frozen=True)
class Transformation:
    """One metricTransformation: where the value comes from, its default, dimensions and unit."""

    metric_name: str
    namespace: str
    value: str
    default_value: float | None = None
    dimensions: Mapping[str, str] = field(default_factory=dict)
    unit: str | None = None


@dataclass(frozen=True)
class Emission:
    """What one log event adds to a metric: a value and the dimensions it goes under."""

    value: float
    dimensions: tuple[tuple[str, str], ...] = ()


def check(pattern: Pattern, transformation: Transformation) -> None:
    """PutMetricFilter's refusals for a transformation against its pattern."""
    if transformation.dimensions and transformation.default_value is not None:
        raise InvalidParameter("You cannot specify a default value for a metric filter that has dimensions.")
    if len(transformation.dimensions) > MAX_DIMENSIONS:
        raise InvalidParameter(f"A metric filter can have at most {MAX_DIMENSIONS} dimensions.")
    _check_reference(pattern, transformation.value, "metricValue")
    for name, source in transformation.dimensions.items():
        if not (_JSON_SELECTOR.fullmatch(source) or _FIELD.fullmatch(source)):
            raise InvalidParameter(f"Invalid dimension value for {name}: {source}")
        _check_reference(pattern, source, f"dimension {name}")


def _check_reference(pattern: Pattern, source: str, what: str) -> None:
    if _NUMBER.fullmatch(source):
        return
    if _JSON_SELECTOR.fullmatch(source):
        if not isinstance(pattern, JsonPattern):
            raise InvalidParameter(f"Invalid {what}: {source} needs a JSON filter pattern.")
        return
    field_name = _FIELD.fullmatch(source)
    if field_name is None:
        raise InvalidParameter(f"Invalid {what}: {source}")
    if not isinstance(pattern, Delimited) or field_name.group(1) not in pattern.names:
        raise InvalidParameter(f"Invalid {what}: {source} is not a named field of the filter pattern.")


def extracted(pattern: Pattern, message: str) -> dict[str, Any] | None:
    """Values a matching event offers (`$name` per delimited field, the JSON document); None when it does not match."""
    if not pattern.matches(message):
        return None
    if isinstance(pattern, Delimited):
        return bind_fields(pattern, split_delimited(message)) or {}
    if isinstance(pattern, JsonPattern):
        return {"$": json.loads(message)}
    return {}


def bind_fields(pattern: Delimited, values: Sequence[str]) -> dict[str, str] | None:
    """The first alignment of a `[a, ..., b]` pattern's named fields with the message's fields."""
    fields = list(zip(pattern.fields, pattern.names or (None,) * len(pattern.fields), strict=True))

    def align(f: int, v: int) -> dict[str, str] | None:
        if f == len(fields):
            return {} if v == len(values) else None
        test, name = fields[f]
        if test is None:
            for skip in range(v, len(values) + 1):
                found = align(f + 1, skip)
                if found is not None:
                    return found
            return None
        if v >= len(values) or not test(values[v]):
            return None
        rest = align(f + 1, v + 1)
        return None if rest is None else {f"${name}": values[v], **rest}

    return align(0, 0)


def emission(pattern: Pattern, transformation: Transformation, message: str) -> Emission | None:
    """The metric value a stored event gives, with its dimensions; None when it does not match or has no value."""
    values = extracted(pattern, message)
    if values is None:
        return None
    value = _number(_resolve(transformation.value, values))
    if value is None:
        return None
    dimensions = []
    for name, source in sorted(transformation.dimensions.items()):
        resolved = _resolve(source, values)
        if resolved is _MISSING or resolved is None:
            return None
        dimensions.append((name, _text(resolved)))
    return Emission(value, tuple(dimensions))


def _resolve(source: str, values: Mapping[str, Any]) -> Any:
    if _NUMBER.fullmatch(source):
        return source
    selector = _JSON_SELECTOR.fullmatch(source)
    if selector is not None:
        return _select(values.get("$", _MISSING), selector.group(1))
    return values.get(source, _MISSING)


def _select(document: Any, steps: str) -> Any:
    value = document
    for key, index in _JSON_STEP.findall(steps):
        if index:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else _MISSING
        else:
            value = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is _MISSING or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def test_metric_filter(pattern_text: str, messages: Sequence[str]) -> list[dict[str, Any]]:
    """TestMetricFilter: the messages that match, numbered from 1, with the values extracted from them."""
    pattern = parse(pattern_text)
    matches = []
    for number, message in enumerate(messages, start=1):
        values = extracted(pattern, message)
        if values is None:
            continue
        shown = {k: v for k, v in values.items() if k != "$"}
        matches.append({"eventNumber": number, "eventMessage": message, "extractedValues": shown})
    return matches


test_metric_filter.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its AWS name
