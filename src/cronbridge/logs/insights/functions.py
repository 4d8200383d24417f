"""Logs Insights functions: scalar ones (strings, numbers, time) and the statistics `stats` computes per group."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from cronbridge.logs.insights.syntax import MalformedQuery


def number(value: Any) -> float | int | None:
    """A value as a number, when it is one or a string that reads as one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return int(parsed) if parsed.is_integer() and "." not in value and "e" not in value.lower() else parsed
    return None


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _strings(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        values = [text(a) for a in args]
        return None if values and values[0] is None else fn(*values)

    return wrapped


def _numbers(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        values = [number(a) for a in args]
        if any(v is None for v in values):
            return None
        try:
            return fn(*values)
        except (ValueError, ZeroDivisionError, OverflowError):
            return None

    return wrapped


def _substr(s: str, start: str, length: str | None = None) -> str:
    begin = int(float(start))
    return s[begin:] if length is None else s[begin : begin + int(float(length))]


def _floor_to(millis: Any, period: Any) -> int | None:
    base, step = number(millis), number(period)
    if base is None or not step:
        return None
    return int(base - base % step)


def _ceil_to(millis: Any, period: Any) -> int | None:
    floor = _floor_to(millis, period)
    if floor is None:
        return None
    return floor if floor == number(millis) else int(floor + number(period))  # type: ignore[operator]


def _coalesce(*args: Any) -> Any:
    return next((a for a in args if a is not None), None)


def _isempty(value: Any) -> bool:
    return value is None or value == ""


def _isblank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# name -> (function, fewest arguments, most arguments)
SCALARS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "abs": (_numbers(abs), 1, 1),
    "ceil": (_numbers(math.ceil), 1, 1),
    "floor": (_numbers(math.floor), 1, 1),
    "sqrt": (_numbers(math.sqrt), 1, 1),
    "log": (_numbers(math.log), 1, 1),
    "greatest": (_numbers(max), 1, 100),
    "least": (_numbers(min), 1, 100),
    "strlen": (_strings(len), 1, 1),
    "toupper": (_strings(str.upper), 1, 1),
    "tolower": (_strings(str.lower), 1, 1),
    "trim": (_strings(str.strip), 1, 1),
    "ltrim": (_strings(str.lstrip), 1, 1),
    "rtrim": (_strings(str.rstrip), 1, 1),
    "concat": (lambda *a: "".join(text(x) or "" for x in a), 1, 100),
    "substr": (_strings(_substr), 2, 3),
    "replace": (_strings(lambda s, a, b: s.replace(a or "", b or "")), 3, 3),
    "strcontains": (_strings(lambda s, sub: int((sub or "") in s)), 2, 2),
    "ispresent": (lambda v: v is not None, 1, 1),
    "isempty": (_isempty, 1, 1),
    "isblank": (_isblank, 1, 1),
    "coalesce": (_coalesce, 1, 100),
    "datefloor": (_floor_to, 2, 2),
    "dateceil": (_ceil_to, 2, 2),
    "frommillis": (lambda v: number(v), 1, 1),
    "tomillis": (lambda v: number(v), 1, 1),
}
TIME_FUNCTIONS = frozenset({"bin", "datefloor", "dateceil", "frommillis"})


def check_call(name: str, count: int, aggregates: bool) -> None:
    """A call the query may make here; MalformedQuery otherwise."""
    if name in AGGREGATES:
        if not aggregates:
            raise MalformedQuery(f"Aggregate function {name} can only be used in stats")
        low, high = AGGREGATE_ARITY[name]
    elif name == "bin":
        low, high = 1, 1
    elif name in SCALARS:
        _, low, high = SCALARS[name]
    else:
        raise MalformedQuery(f"Unknown function: {name}")
    if not low <= count <= high:
        raise MalformedQuery(f"Wrong number of arguments for function {name}")


# statistics -------------------------------------------------------------------------------------------------


class Aggregate:
    """One statistic over one group: fed (value, @timestamp) pairs, asked for its result once."""

    def add(self, value: Any, at: int) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError


class Count(Aggregate):
    def __init__(self) -> None:
        self.n = 0

    def add(self, value: Any, at: int) -> None:
        if value is not None:
            self.n += 1

    def result(self) -> Any:
        return self.n


class CountDistinct(Aggregate):
    def __init__(self) -> None:
        self.seen: set[Any] = set()

    def add(self, value: Any, at: int) -> None:
        if value is not None:
            self.seen.add(value if not isinstance(value, dict | list) else repr(value))

    def result(self) -> Any:
        return len(self.seen)


class Numbers(Aggregate):
    """sum, avg, min, max, stddev and pct over the numeric values."""

    def __init__(self, kind: str, percentile: float = 0.0) -> None:
        self.kind = kind
        self.percentile = percentile
        self.values: list[float | int] = []

    def add(self, value: Any, at: int) -> None:
        converted = number(value)
        if converted is not None:
            self.values.append(converted)

    def result(self) -> Any:
        values = self.values
        if not values:
            return None
        if self.kind == "sum":
            return sum(values)
        if self.kind == "avg":
            return sum(values) / len(values)
        if self.kind in ("min", "max"):
            return min(values) if self.kind == "min" else max(values)
        if self.kind == "stddev":
            return _stddev(values)
        ordered = sorted(values)
        rank = max(1, math.ceil(self.percentile / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]


def _stddev(values: list[float | int]) -> float:
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


class Timed(Aggregate):
    """earliest(x) / latest(x): x at the lowest / highest @timestamp."""

    def __init__(self, latest: bool) -> None:
        self.latest = latest
        self.best: tuple[int, Any] | None = None

    def add(self, value: Any, at: int) -> None:
        if value is None:
            return
        if self.best is None or (at > self.best[0] if self.latest else at < self.best[0]):
            self.best = (at, value)

    def result(self) -> Any:
        return None if self.best is None else self.best[1]


AGGREGATE_ARITY = {
    "count": (0, 1),
    "count_distinct": (1, 1),
    "sum": (1, 1),
    "avg": (1, 1),
    "min": (1, 1),
    "max": (1, 1),
    "stddev": (1, 1),
    "pct": (2, 2),
    "percentile": (2, 2),
    "earliest": (1, 1),
    "latest": (1, 1),
}
AGGREGATES = frozenset(AGGREGATE_ARITY)


def aggregate_factory(name: str, percentile: float = 0.0) -> Callable[[], Aggregate]:
    if name == "count":
        return Count
    if name == "count_distinct":
        return CountDistinct
    if name in ("earliest", "latest"):
        return lambda: Timed(name == "latest")
    kind = "pct" if name == "percentile" else name
    return lambda: Numbers(kind, percentile)
