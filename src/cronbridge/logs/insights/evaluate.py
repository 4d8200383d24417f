"""Running a parsed Logs Insights query over log events (PURE): each command compiled once, then streamed."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import re2

from cronbridge.logs.insights import functions as fn
from cronbridge.logs.insights import syntax as q
from cronbridge.logs.insights.records import TIME_FIELDS, LogRecord, Row, render

DEFAULT_LIMIT = 1000
_LITERAL = re2.compile(r"[A-Za-z0-9 _:,;=@#'\"-]+")  # a regex that is just text: searched as a substring
MAX_LIMIT = 10_000
Value = Callable[[Row], Any]
Stage = Callable[[Iterable[Row]], Iterable[Row]]


@dataclass
class QueryResult:
    """GetQueryResults' content: rows of (field, value) pairs and the statistics AWS reports."""

    rows: list[list[tuple[str, str]]]
    records_matched: int = 0
    records_scanned: int = 0
    bytes_scanned: int = 0


@dataclass
class _Plan:
    """What compiling the commands learned: the stages, which names hold instants, the columns to show."""

    stages: list[Stage] = field(default_factory=list)
    time_names: set[str] = field(default_factory=lambda: set(TIME_FIELDS))
    columns: list[str] = field(default_factory=list)
    display: list[str] | None = None
    has_stats: bool = False
    has_sort: bool = False
    has_limit: bool = False
    counter_at: int | None = None


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def stage(self, rows: Iterable[Row]) -> Iterator[Row]:
        for row in rows:
            self.n += 1
            yield row


def run(query: q.Query, events: Iterable[LogRecord], default_limit: int = DEFAULT_LIMIT) -> QueryResult:
    """Run the query over the events (the caller has already applied the time range and the log groups)."""
    plan = _compile(query)
    scanned = _Scanned(events)
    matched = _Counter()
    stages = list(plan.stages)
    stages.insert(plan.counter_at if plan.counter_at is not None else len(stages), matched.stage)
    if not plan.has_stats and not plan.has_sort:
        stages.append(_sorter(((_timestamp, True),)))
    if not plan.has_limit:
        stages.append(_limiter(default_limit))
    rows: Iterable[Row] = scanned
    for stage in stages:
        rows = stage(rows)
    rendered = [_render(row, plan) for row in rows]
    return QueryResult(rendered, matched.n, scanned.count, scanned.bytes)


class _Scanned:
    """The events read as rows, counted as they go (recordsScanned, bytesScanned)."""

    def __init__(self, events: Iterable[LogRecord]) -> None:
        self.events = events
        self.count = 0
        self.bytes = 0

    def __iter__(self) -> Iterator[Row]:
        count = size = 0
        try:
            for event in self.events:
                count += 1
                message = event.message
                size += (len(message) if message.isascii() else len(message.encode())) + 8
                yield Row(event)
        finally:
            self.count, self.bytes = count, size


def _render(row: Row, plan: _Plan) -> list[tuple[str, str]]:
    columns = plan.display if plan.display is not None else plan.columns or ["@timestamp", "@message"]
    out = []
    for name in columns:
        value = render(row.get(name), name in plan.time_names)
        if value is not None:
            out.append((name, value))
    if not plan.has_stats and row.event is not None:
        out.append(("@ptr", row.event.ptr))
    return out


# compiling commands -----------------------------------------------------------------------------------------


def _compile(query: q.Query) -> _Plan:
    plan = _Plan()
    for command in query.commands:
        if isinstance(command, q.Stats | q.Limit) and plan.counter_at is None:
            plan.counter_at = len(plan.stages)
        _COMMANDS[type(command)](command, plan)
    return plan


def _fields(command: q.Fields, plan: _Plan) -> None:
    computed = [(item.name, compile_expr(item.expr, plan.time_names)) for item in command.items]
    for item in command.items:
        if is_time(item.expr, plan.time_names):
            plan.time_names.add(item.name)
        if item.name not in plan.columns:
            plan.columns.append(item.name)
    plain = all(isinstance(item.expr, q.Field) and item.expr.name == item.name for item in command.items)
    if plain:
        return

    def stage(rows: Iterable[Row]) -> Iterator[Row]:
        for row in rows:
            for name, value in computed:
                row.set(name, value(row))
            yield row

    plan.stages.append(stage)


def _display(command: q.Display, plan: _Plan) -> None:
    plan.display = list(command.names)


def _filter(command: q.Filter, plan: _Plan) -> None:
    test = compile_expr(command.condition, plan.time_names)
    if isinstance(command.condition, q.Like | q.In) or (
        isinstance(command.condition, q.Binary) and command.condition.op in _BOOLEAN
    ):
        plan.stages.append(lambda rows: filter(test, rows))  # already True/False
    else:
        plan.stages.append(lambda rows: (row for row in rows if _truthy(test(row))))


def _limit(command: q.Limit, plan: _Plan) -> None:
    if not 1 <= command.count <= MAX_LIMIT:
        raise q.MalformedQuery(f"limit must be between 1 and {MAX_LIMIT}")
    plan.has_limit = True
    if not plan.has_stats and not plan.has_sort:
        plan.stages.append(_sorter(((_timestamp, True),)))
        plan.has_sort = True
    plan.stages.append(_limiter(command.count))


def _limiter(count: int) -> Stage:
    """The first rows; the rest are still read (so every record is scanned and every match counted)."""

    def stage(rows: Iterable[Row]) -> Iterator[Row]:
        iterator = iter(rows)
        yield from itertools.islice(iterator, count)
        for _ in iterator:
            pass

    return stage


def _timestamp(row: Row) -> Any:
    return row.event.timestamp if row.extra is None and row.event is not None else row.get("@timestamp")


def _message(row: Row) -> Any:
    return row.event.message if row.extra is None and row.event is not None else row.get("@message")


_SYSTEM_FAST: dict[str, Value] = {"@timestamp": _timestamp, "@message": _message}


def _sort(command: q.Sort, plan: _Plan) -> None:
    plan.has_sort = True
    keys = tuple((compile_expr(expr, plan.time_names), descending) for expr, descending in command.keys)
    plan.stages.append(_sorter(keys))


def _sorter(keys: tuple[tuple[Value, bool], ...]) -> Stage:
    def stage(rows: Iterable[Row]) -> list[Row]:
        ordered = list(rows)
        for value, descending in reversed(keys):
            present = [r for r in ordered if value(r) is not None]
            absent = [r for r in ordered if value(r) is None]
            present.sort(key=lambda r: _sort_key(value(r)), reverse=descending)
            ordered = present + absent
        return ordered

    return stage


def _sort_key(value: Any) -> tuple[int, Any]:
    number = fn.number(value)
    return (0, number) if number is not None else (1, fn.text(value))


def _dedup(command: q.Dedup, plan: _Plan) -> None:
    names = command.names

    def stage(rows: Iterable[Row]) -> Iterator[Row]:
        seen: set[tuple[str | None, ...]] = set()
        for row in rows:
            key = tuple(fn.text(row.get(n)) for n in names)
            if key not in seen:
                seen.add(key)
                yield row

    plan.stages.append(stage)


def _parse(command: q.Parse, plan: _Plan) -> None:
    source = command.source
    if command.regex is not None:
        regex = _regex(command.regex)
        captures = sorted(((index, name) for name, index in regex.groupindex.items()))
    else:
        regex = _glob(command.glob or "")
        if len(command.names) != regex.groups:
            raise q.MalformedQuery("parse: the number of names differs from the number of * in the pattern")
        captures = list(enumerate(command.names, start=1))

    def stage(rows: Iterable[Row]) -> Iterator[Row]:
        for row in rows:
            subject = fn.text(row.get(source))
            found = regex.search(subject) if subject is not None else None
            for index, name in captures:
                row.set(name, found.group(index) if found else None)
            yield row

    plan.stages.append(stage)


def _glob(pattern: str) -> Any:
    parts = pattern.split("*")
    captures = ["(.*?)"] * (len(parts) - 2) + ["(.*)"] if len(parts) > 1 else []
    body = "".join(re2.escape(part) + (captures[i] if i < len(captures) else "") for i, part in enumerate(parts))
    return re2.compile(body)


def _regex(literal: q.Regex) -> Any:
    flags = "(?i)" if "i" in literal.flags else ""
    try:
        return re2.compile(flags + literal.pattern)
    except re2.error as error:
        raise q.MalformedQuery(f"Invalid regular expression /{literal.pattern}/: {error}") from None


# stats ------------------------------------------------------------------------------------------------------


def _stats(command: q.Stats, plan: _Plan) -> None:
    groups = [(g.name, compile_expr(g.expr, plan.time_names)) for g in command.groups]
    aggregates = [_aggregate(item, plan.time_names) for item in command.aggregates]
    for g in command.groups:
        if is_time(g.expr, plan.time_names):
            plan.time_names.add(g.name)
    for item in command.aggregates:
        if _aggregate_is_time(item.expr, plan.time_names):
            plan.time_names.add(item.name)
    plan.has_stats = True
    plan.columns = [g.name for g in command.groups] + [a.name for a in command.aggregates]
    plan.stages.append(_grouper(groups, aggregates))


def _grouper(groups: list[tuple[str, Value]], aggregates: list[tuple[str, Callable[[], fn.Aggregate], Value]]) -> Stage:
    names = [name for name, _ in groups]
    keys = [value for _, value in groups]

    timed = any(make is not fn.Count and make is not fn.CountDistinct for _, make, _ in aggregates)
    single = keys[0] if len(keys) == 1 else None
    counting_rows = all(value is _one for _, _, value in aggregates)

    def stage(rows: Iterable[Row]) -> list[Row]:
        table: dict[tuple[Any, ...], list[fn.Aggregate]] = {}
        if counting_rows:  # count(*) alone: a tally per group, the common case made cheap
            tally: dict[tuple[Any, ...], int] = {}
            for row in rows:
                key = (single(row),) if single is not None else tuple(k(row) for k in keys)
                tally[key] = tally.get(key, 0) + 1
            for key, n in tally.items():
                table[key] = [_counted(make, n) for _, make, _ in aggregates]
            rows = ()
        for row in rows:
            key = (single(row),) if single is not None else tuple(k(row) for k in keys)
            states = table.get(key)
            if states is None:
                states = table[key] = [make() for _, make, _ in aggregates]
            at = (_timestamp(row) or 0) if timed else 0
            for state, (_, _, value) in zip(states, aggregates, strict=True):
                state.add(value(row), at)
        out = []
        for key in sorted(table, key=lambda k: tuple(_sort_key(v) if v is not None else (2, "") for v in k)):
            extra = dict(zip(names, key, strict=True))
            extra.update({name: state.result() for (name, _, _), state in zip(aggregates, table[key], strict=True)})
            out.append(Row(None, extra))
        return out

    return stage


def _one(row: Row) -> int:
    return 1


def _counted(make: Callable[[], fn.Aggregate], n: int) -> fn.Aggregate:
    state = make()
    for _ in range(n if make is not fn.Count else 0):
        state.add(1, 0)
    if isinstance(state, fn.Count):
        state.n = n
    return state


def _aggregate(item: q.Named, time_names: set[str]) -> tuple[str, Callable[[], fn.Aggregate], Value]:
    call = item.expr
    if not isinstance(call, q.Call) or call.name not in fn.AGGREGATES:
        raise q.MalformedQuery(f"stats needs an aggregate function, not {item.name}")
    fn.check_call(call.name, len(call.args), aggregates=True)
    percentile = 0.0
    if call.name in ("pct", "percentile"):
        level = call.args[1]
        if not isinstance(level, q.Literal) or fn.number(level.value) is None:
            raise q.MalformedQuery("pct needs a number as its second argument")
        percentile = float(level.value)
    if not call.args or isinstance(call.args[0], q.Star):
        return item.name, fn.aggregate_factory(call.name), _one
    return item.name, fn.aggregate_factory(call.name, percentile), compile_expr(call.args[0], time_names)


def _aggregate_is_time(expr: q.Expr, time_names: set[str]) -> bool:
    if not isinstance(expr, q.Call) or not expr.args:
        return False
    return expr.name in ("min", "max", "earliest", "latest") and is_time(expr.args[0], time_names)


_COMMANDS: dict[type, Callable[[Any, _Plan], None]] = {
    q.Fields: _fields,
    q.Display: _display,
    q.Filter: _filter,
    q.Stats: _stats,
    q.Sort: _sort,
    q.Limit: _limit,
    q.Parse: _parse,
    q.Dedup: _dedup,
}


# expressions ------------------------------------------------------------------------------------------------


def is_time(expr: q.Expr, time_names: set[str]) -> bool:
    if isinstance(expr, q.Field):
        return expr.name in time_names
    return isinstance(expr, q.Call) and expr.name in fn.TIME_FUNCTIONS


def compile_expr(expr: q.Expr, time_names: set[str]) -> Value:
    """An expression as a function of a row."""
    if isinstance(expr, q.Field):
        name = expr.name
        return _SYSTEM_FAST.get(name) or (lambda row: row.get(name))
    if isinstance(expr, q.Literal):
        constant = expr.value
        return lambda row: constant
    if isinstance(expr, q.Duration):
        millis = expr.millis
        return lambda row: millis
    if isinstance(expr, q.Call):
        return _call(expr, time_names)
    if isinstance(expr, q.Unary):
        return _unary(expr, time_names)
    if isinstance(expr, q.Binary):
        return _binary(expr, time_names)
    if isinstance(expr, q.Like):
        return _like(expr, time_names)
    if isinstance(expr, q.In):
        return _in(expr, time_names)
    raise q.MalformedQuery(f"unexpected {type(expr).__name__.lower()} in an expression")


def _call(call: q.Call, time_names: set[str]) -> Value:
    fn.check_call(call.name, len(call.args), aggregates=False)
    if call.name == "bin":
        return _bin(call)
    args = [compile_expr(a, time_names) for a in call.args]
    impl = fn.SCALARS[call.name][0]
    if len(args) == 1:
        only = args[0]
        return lambda row: impl(only(row))
    return lambda row: impl(*(a(row) for a in args))


def _bin(call: q.Call) -> Value:
    period = call.args[0]
    if not isinstance(period, q.Duration) or period.millis <= 0:
        raise q.MalformedQuery("bin needs a period such as 5m")
    step = period.millis

    def value(row: Row) -> Any:
        at = _timestamp(row)
        return None if at is None else at - at % step

    return value


def _unary(expr: q.Unary, time_names: set[str]) -> Value:
    operand = compile_expr(expr.operand, time_names)
    if expr.op == "not":
        return lambda row: not _truthy(operand(row))

    def negate(row: Row) -> Any:
        value = fn.number(operand(row))
        return None if value is None else -value

    return negate


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


def _binary(expr: q.Binary, time_names: set[str]) -> Value:
    left, right = compile_expr(expr.left, time_names), compile_expr(expr.right, time_names)
    if expr.op == "and":
        return lambda row: _truthy(left(row)) and _truthy(right(row))
    if expr.op == "or":
        return lambda row: _truthy(left(row)) or _truthy(right(row))
    if expr.op in _ARITHMETIC:
        operate = _ARITHMETIC[expr.op]

        def arithmetic(row: Row) -> Any:
            a, b = fn.number(left(row)), fn.number(right(row))
            if a is None or b is None:
                return None
            try:
                return operate(a, b)
            except ZeroDivisionError:
                return None

        return arithmetic
    op = expr.op
    return lambda row: compare(left(row), right(row), op)


def compare(a: Any, b: Any, op: str) -> bool:
    """Insights' comparison: numerically when both sides read as numbers, else as text."""
    if a is None or b is None:
        return op == "!=" and not (a is None and b is None)
    x, y = fn.number(a), fn.number(b)
    if x is None or y is None:
        x, y = fn.text(a), fn.text(b)  # type: ignore[assignment]
    if op == "=":
        return bool(x == y)
    if op == "!=":
        return bool(x != y)
    return bool(_ORDER[op](x, y))


_BOOLEAN = frozenset({"and", "or", "=", "!=", "<", "<=", ">", ">="})
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _like(expr: q.Like, time_names: set[str]) -> Value:
    subject = compile_expr(expr.subject, time_names)
    negated = expr.negated
    if isinstance(expr.pattern, q.Regex) and _LITERAL.fullmatch(expr.pattern.pattern) and not expr.pattern.flags:
        expr = q.Like(expr.subject, q.Literal(expr.pattern.pattern), expr.negated)
    if isinstance(expr.pattern, q.Regex):
        search = _regex(expr.pattern).search

        def matches(row: Row) -> bool:
            value = fn.text(subject(row))
            return value is not None and search(value) is not None

    else:
        needle = str(expr.pattern.value)

        def matches(row: Row) -> bool:
            value = subject(row)
            if value.__class__ is not str:
                value = fn.text(value)
            return value is not None and needle in value

    if negated:
        return lambda row: not matches(row)
    return matches


def _in(expr: q.In, time_names: set[str]) -> Value:
    subject = compile_expr(expr.subject, time_names)
    items = [compile_expr(item, time_names) for item in expr.items.items]
    negated = expr.negated

    def member(row: Row) -> bool:
        value = subject(row)
        found = any(compare(value, item(row), "=") for item in items)
        return not found if negated else found

    return member


def _truthy(value: Any) -> bool:
    return value is not None and value is not False and value != 0 and value != ""
