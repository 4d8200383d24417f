"""Logs Insights queries parsed (lark, grammar.lark) into commands and expressions; MalformedQueryException."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lark

from cronbridge.errors import AwsError

DURATION_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 7 * 86_400_000,
    "mo": 30 * 86_400_000,
    "q": 91 * 86_400_000,
    "y": 365 * 86_400_000,
}


class MalformedQuery(AwsError):
    """Logs' MalformedQueryException; `start`/`end` are the character offsets of the fault."""

    code = "MalformedQueryException"

    def __init__(self, message: str, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.start = start
        self.end = end


# expressions ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Regex:
    pattern: str
    flags: str = ""


@dataclass(frozen=True)
class Duration:
    millis: int
    text: str


@dataclass(frozen=True)
class Star:
    pass


@dataclass(frozen=True)
class ListOf:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / % = != < <= > >= and or
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Like:
    subject: Expr
    pattern: Literal | Regex
    negated: bool = False


@dataclass(frozen=True)
class In:
    subject: Expr
    items: ListOf
    negated: bool = False


Expr = Field | Literal | Regex | Duration | Star | ListOf | Call | Unary | Binary | Like | In


# commands ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    """An expression and the name its value takes in the results (its own text when not aliased)."""

    expr: Expr
    name: str


@dataclass(frozen=True)
class Fields:
    items: tuple[Named, ...]


@dataclass(frozen=True)
class Display:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Filter:
    condition: Expr


@dataclass(frozen=True)
class Stats:
    aggregates: tuple[Named, ...]
    groups: tuple[Named, ...] = ()


@dataclass(frozen=True)
class Sort:
    keys: tuple[tuple[Expr, bool], ...]  # (expression, descending)


@dataclass(frozen=True)
class Limit:
    count: int


@dataclass(frozen=True)
class Parse:
    source: str
    glob: str | None = None
    names: tuple[str, ...] = ()
    regex: Regex | None = None


@dataclass(frozen=True)
class Dedup:
    names: tuple[str, ...]


Command = Fields | Display | Filter | Stats | Sort | Limit | Parse | Dedup


@dataclass(frozen=True)
class Query:
    text: str
    commands: tuple[Command, ...] = field(default_factory=tuple)


@functools.cache
def _parser() -> lark.Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    return lark.Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def parse_query(text: str) -> Query:
    """Parse a query; MalformedQuery with the position of the first fault otherwise."""
    if not text.strip():
        raise MalformedQuery("Query string cannot be empty", 0, 0)
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as error:
        raise _malformed(text, error) from None
    try:
        commands = tuple(_Build(text).transform(tree).children)
    except lark.exceptions.VisitError as error:
        if isinstance(error.orig_exc, MalformedQuery):
            raise error.orig_exc from None
        raise
    return Query(text, commands)


def _malformed(text: str, error: lark.exceptions.UnexpectedInput) -> MalformedQuery:
    token = getattr(error, "token", None)
    at_end = token is not None and getattr(token, "type", "") == "$END"
    start = len(text) if at_end or error.pos_in_stream is None else error.pos_in_stream
    found = "end of query" if at_end else (str(token) if token is not None else text[start : start + 1])
    end = start if at_end else start + max(len(found), 1) - 1
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return MalformedQuery(f"unexpected symbol found {found} at line {line} and position {column}", start, end)


def _unquote(token: str) -> str:
    body = token[1:-1]
    if token[0] == "'":
        body = body.replace("\\'", "'").replace('"', '\\"')
    try:
        return str(json.loads(f'"{body}"'))
    except ValueError:
        return body


class _Build(lark.Transformer[Any, Any]):
    """lark's tree -> the dataclasses above."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    # atoms
    def number(self, items: list[Any]) -> Literal:
        text = str(items[0])
        return Literal(float(text) if any(c in text for c in ".eE") else int(text))

    def duration(self, items: list[Any]) -> Duration:
        text = str(items[0])
        digits = "".join(c for c in text if c.isdigit())
        return Duration(int(digits) * DURATION_MS[text[len(digits) :]], text)

    def string(self, items: list[Any]) -> Literal:
        return Literal(_unquote(str(items[0])))

    def regex(self, items: list[Any]) -> Regex:
        text = str(items[0])
        end = text.rfind("/")
        return Regex(text[1:end].replace("\\/", "/"), text[end + 1 :])

    def star(self, items: list[Any]) -> Star:
        return Star()

    def name(self, items: list[Any]) -> str:
        text = str(items[0])
        return text[1:-1] if text.startswith("`") else text

    def field(self, items: list[Any]) -> Field:
        return Field(items[0])

    def array(self, items: list[Any]) -> ListOf:
        return ListOf(tuple(i for i in items if i is not None))

    def call(self, items: list[Any]) -> Call:
        return Call(str(items[0]).lower(), tuple(i for i in items[1:] if i is not None))

    # operators
    def neg(self, items: list[Any]) -> Unary:
        return Unary("-", items[0])

    def not_(self, items: list[Any]) -> Unary:
        return Unary("not", items[0])

    def arith(self, items: list[Any]) -> Binary:
        return Binary(str(items[1]), items[0], items[2])

    def compare(self, items: list[Any]) -> Binary:
        return Binary(str(items[1]), items[0], items[2])

    def and_(self, items: list[Any]) -> Binary:
        return Binary("and", items[0], items[1])

    def or_(self, items: list[Any]) -> Binary:
        return Binary("or", items[0], items[1])

    def like(self, items: list[Any]) -> Like:
        return Like(items[0], items[-1])

    def not_like(self, items: list[Any]) -> Like:
        return Like(items[0], items[1], negated=True)

    def in_(self, items: list[Any]) -> In:
        return In(items[0], items[1])

    def not_in(self, items: list[Any]) -> In:
        return In(items[0], items[1], negated=True)

    # commands
    @lark.v_args(meta=True)
    def named(self, meta: Any, items: list[Any]) -> Named:
        expr, alias = items
        if alias is None and isinstance(expr, Field):
            alias = expr.name
        return Named(expr, alias or self.text[meta.start_pos : meta.end_pos].strip())

    @lark.v_args(meta=True)
    def group(self, meta: Any, items: list[Any]) -> tuple[str, Named]:
        return "by", self.named(meta, items)  # type: ignore[arg-type]

    def fields_cmd(self, items: list[Any]) -> Fields:
        return Fields(tuple(items))

    def display_cmd(self, items: list[Any]) -> Display:
        return Display(tuple(items))

    def filter_cmd(self, items: list[Any]) -> Filter:
        return Filter(items[0])

    def stats_cmd(self, items: list[Any]) -> Stats:
        aggregates = tuple(i for i in items if isinstance(i, Named))
        groups = tuple(i[1] for i in items if isinstance(i, tuple))
        return Stats(aggregates, groups)

    def sort_key(self, items: list[Any]) -> tuple[Expr, bool]:
        expr, order = items
        return expr, order is not None and str(order).lower() == "desc"

    def sort_cmd(self, items: list[Any]) -> Sort:
        return Sort(tuple(items))

    def limit_cmd(self, items: list[Any]) -> Limit:
        return Limit(int(str(items[0])))

    def parse_cmd(self, items: list[Any]) -> Parse:
        source = items[0] or "@message"
        rest = items[1:]
        if getattr(rest[0], "type", "") == "REGEX":
            return Parse(source, regex=self.regex([rest[0]]))
        return Parse(source, glob=_unquote(str(rest[0])), names=tuple(n for n in rest[1:] if n is not None))

    def dedup_cmd(self, items: list[Any]) -> Dedup:
        return Dedup(tuple(items))
