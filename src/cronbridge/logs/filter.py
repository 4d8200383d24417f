"""CloudWatch Logs filter patterns (PURE): terms, ?OR, -NOT, %regex%, {JSON}, [fields]."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cronbridge.errors import InvalidParameter

MAX_DEPTH = 32
_FORBIDDEN_IN_WORDS = set('"{}[]()%?')
_REGEX_ALLOWED = re.compile(r"[A-Za-z0-9:_#=@/;,\- ^$?\[\]{}|\\*+.]+")
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|,)'
    r'|(?P<word>[^\s=!<>()&|",]+))'
)
_SELECTOR = re.compile(r"\$((?:\.[A-Za-z0-9_@\-]+|\[\d+\])+)")
_STEP = re.compile(r"\.([A-Za-z0-9_@\-]+)|\[(\d+)\]")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DELIMITED_FIELD = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')
_MISSING = object()


class Pattern(Protocol):
    """A parsed filter pattern. `exact`: `sql()` alone decides (no need to call `matches`)."""

    @property
    def exact(self) -> bool:
        """True when `sql()` alone decides."""
        ...

    def matches(self, message: str) -> bool:
        """Whether one event message matches."""
        ...

    def sql(self) -> tuple[str, list[Any]] | None:
        """A WHERE clause over column `message` (and parameters) every match satisfies, if any."""
        ...


def invalid() -> InvalidParameter:
    return InvalidParameter("Invalid filter pattern")


def parse(text: str | None) -> Pattern:
    """Parse a pattern; InvalidParameter('Invalid filter pattern') when the grammar rejects it."""
    stripped = (text or "").strip()
    if stripped.startswith("{"):
        return _parse_json(stripped)
    if stripped.startswith("["):
        return _parse_delimited(stripped)
    if stripped.startswith("%"):
        return _parse_regex(stripped)
    return _parse_terms(stripped)


# terms: ERROR "exact phrase" ?OR -NOT


@dataclass(frozen=True)
class Terms:
    """All `required`, one of `optional` (if any), none of `excluded`; case-sensitive substrings."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    exact: bool = True

    def matches(self, message: str) -> bool:
        return (
            all(t in message for t in self.required)
            and (not self.optional or any(t in message for t in self.optional))
            and not any(t in message for t in self.excluded)
        )

    def sql(self) -> tuple[str, list[Any]] | None:
        clauses = ["instr(message, ?) > 0"] * len(self.required)
        clauses += ["instr(message, ?) = 0"] * len(self.excluded)
        params: list[Any] = [*self.required, *self.excluded]
        if self.optional:
            clauses.append("(" + " OR ".join(["instr(message, ?) > 0"] * len(self.optional)) + ")")
            params.extend(self.optional)
        return (" AND ".join(clauses), params) if clauses else None


def _parse_terms(text: str) -> Terms:
    buckets: dict[str, list[str]] = {"": [], "?": [], "-": []}
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        sign = text[i] if text[i] in "?-" else ""
        term, i = _term(text, i + len(sign))
        buckets[sign].append(term)
    return Terms(tuple(buckets[""]), tuple(buckets["?"]), tuple(buckets["-"]))


def _term(text: str, i: int) -> tuple[str, int]:
    """One bare word or quoted phrase starting at i; returns it and the index after it."""
    if i >= len(text) or text[i].isspace():
        raise invalid()
    if text[i] == '"':
        return _quoted(text, i)
    end = i
    while end < len(text) and not text[end].isspace():
        if text[end] in _FORBIDDEN_IN_WORDS:
            raise invalid()
        end += 1
    return text[i:end], end


def _quoted(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    j = i + 1
    while j < len(text) and text[j] != '"':
        if text[j] == "\\" and j + 1 < len(text):
            j += 1
        out.append(text[j])
        j += 1
    if j >= len(text) or (j + 1 < len(text) and not text[j + 1].isspace()):
        raise invalid()
    return "".join(out), j + 1


# %regex%


@dataclass(frozen=True)
class Regex:
    """A `%regex%` pattern: AWS's subset of regular expressions, searched in the message."""

    regex: re.Pattern[str]
    exact: bool = False

    def matches(self, message: str) -> bool:
        return self.regex.search(message) is not None

    def sql(self) -> tuple[str, list[Any]] | None:
        return None


def _parse_regex(text: str) -> Regex:
    body = text[1:-1]
    if len(text) < 3 or not text.endswith("%") or not _REGEX_ALLOWED.fullmatch(body):
        raise invalid()
    try:
        return Regex(re.compile(body))
    except (re.error, RecursionError, OverflowError) as exc:
        raise invalid() from exc


# comparisons shared by JSON and delimited patterns

Test = Callable[[Any], bool]


def _wildcard(text: str) -> Callable[[str], bool]:
    if "*" not in text:
        return lambda actual: actual == text
    regex = re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)
    return lambda actual: regex.fullmatch(actual) is not None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _comparison(op: str, literal: str, quoted: bool) -> Test:
    """The test `actual <op> literal`: numeric for unquoted numbers, else string (= and != only)."""
    if not quoted and _NUMBER.fullmatch(literal):
        expected, compare = float(literal), _NUMERIC[op]

        def numeric(actual: Any) -> bool:
            number = _as_number(actual)
            return op == "!=" if number is None else compare(number, expected)

        return numeric
    if op not in ("=", "!="):
        raise invalid()
    same = _wildcard(literal)
    if op == "=":
        return lambda actual: isinstance(actual, str) and same(actual)
    return lambda actual: not (isinstance(actual, str) and same(actual))


class _Tokens:
    """A cursor over the tokens of a JSON or delimited pattern body."""

    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip():
                    raise invalid()
                break
            kind = m.lastgroup or ""
            self.items.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.items[self.i] if self.i < len(self.items) else ("end", "")

    def take(self) -> tuple[str, str]:
        item = self.peek()
        if item[0] == "end":
            raise invalid()
        self.i += 1
        return item

    def expect(self, value: str) -> None:
        if self.take()[1] != value:
            raise invalid()

    def literal(self) -> tuple[str, bool]:
        kind, value = self.take()
        if kind == "str":
            return _unquote(value), True
        if kind != "word":
            raise invalid()
        return value, False


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1], flags=re.DOTALL)


def _boolean(tokens: _Tokens, leaf: Callable[[_Tokens, int], Test], depth: int) -> Test:
    """`a || b && (c)`: && binds tighter than ||; parentheses nest up to MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise invalid()
    alternatives = [_conjunction(tokens, leaf, depth)]
    while tokens.peek() == ("op", "||"):
        tokens.take()
        alternatives.append(_conjunction(tokens, leaf, depth))
    if len(alternatives) == 1:
        return alternatives[0]
    return lambda value: any(test(value) for test in alternatives)


def _conjunction(tokens: _Tokens, leaf: Callable[[_Tokens, int], Test], depth: int) -> Test:
    parts = [_operand(tokens, leaf, depth)]
    while tokens.peek() == ("op", "&&"):
        tokens.take()
        parts.append(_operand(tokens, leaf, depth))
    if len(parts) == 1:
        return parts[0]
    return lambda value: all(test(value) for test in parts)


def _operand(tokens: _Tokens, leaf: Callable[[_Tokens, int], Test], depth: int) -> Test:
    if tokens.peek() == ("op", "("):
        tokens.take()
        inner = _boolean(tokens, leaf, depth + 1)
        tokens.expect(")")
        return inner
    return leaf(tokens, depth)


# { $.selector = value && ... }


@dataclass(frozen=True)
class JsonPattern:
    """A `{ ... }` pattern over JSON messages; messages that are not JSON never match."""

    test: Test
    exact: bool = False

    def matches(self, message: str) -> bool:
        try:
            document = json.loads(message)
        except (ValueError, RecursionError):
            return False
        return isinstance(document, dict | list) and self.test(document)

    def sql(self) -> tuple[str, list[Any]] | None:
        return ("instr(message, '{') > 0 OR instr(message, '[') > 0", [])


def _parse_json(text: str) -> JsonPattern:
    if not text.endswith("}"):
        raise invalid()
    tokens = _Tokens(text[1:-1])
    test = _boolean(tokens, _json_leaf, 0)
    if tokens.peek()[0] != "end":
        raise invalid()
    return JsonPattern(test)


def _json_leaf(tokens: _Tokens, depth: int) -> Test:
    kind, word = tokens.take()
    m = _SELECTOR.fullmatch(word) if kind == "word" else None
    if m is None:
        raise invalid()
    steps = [s[0] or int(s[1]) for s in _STEP.findall(m.group(1))]
    kind, op = tokens.take()
    if kind == "word" and op.upper() in ("IS", "NOT"):
        check = _json_keyword(tokens, op.upper())
    elif kind == "op" and op in _NUMERIC:
        check = _comparison(op, *tokens.literal())
    else:
        raise invalid()
    return lambda document: check(_select(document, steps))


def _json_keyword(tokens: _Tokens, first: str) -> Test:
    _, word = tokens.take()
    word = word.upper()
    if first == "NOT":
        if word != "EXISTS":
            raise invalid()
        return lambda actual: actual is _MISSING
    checks: dict[str, Test] = {
        "TRUE": lambda actual: actual is True,
        "FALSE": lambda actual: actual is False,
        "NULL": lambda actual: actual is None,
    }
    if word not in checks:
        raise invalid()
    return checks[word]


def _select(document: Any, steps: list[str | int]) -> Any:
    value = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
            value = value[step]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return _MISSING
    return value


# [ip, user, ..., status = 404, size > 1000]


@dataclass(frozen=True)
class Delimited:
    """A `[...]` pattern over space-delimited messages; `None` stands for `...` (any fields)."""

    fields: tuple[Test | None, ...]
    exact: bool = False

    def matches(self, message: str) -> bool:
        values = [a or b or c for a, b, c in _DELIMITED_FIELD.findall(message)]
        reachable = {0}
        for test in self.fields:
            if test is None:
                reachable = set(range(min(reachable), len(values) + 1)) if reachable else set()
            else:
                reachable = {i + 1 for i in reachable if i < len(values) and test(values[i])}
        return len(values) in reachable

    def sql(self) -> tuple[str, list[Any]] | None:
        return None


def _parse_delimited(text: str) -> Delimited:
    if not text.endswith("]"):
        raise invalid()
    tokens = _Tokens(text[1:-1])
    fields: list[Test | None] = []
    while True:
        fields.append(_delimited_field(tokens))
        if tokens.peek()[0] == "end":
            return Delimited(tuple(fields))
        tokens.expect(",")


def _delimited_field(tokens: _Tokens) -> Test | None:
    kind, word = tokens.peek()
    if kind == "word" and word == "...":
        tokens.take()
        return None
    if kind != "word" or not _FIELD_NAME.fullmatch(word):
        raise invalid()
    if tokens.i + 1 < len(tokens.items) and tokens.items[tokens.i + 1][1] in _NUMERIC:
        return _boolean(tokens, _named_leaf(word), 0)
    tokens.take()
    return lambda value: True


def _named_leaf(name: str) -> Callable[[_Tokens, int], Test]:
    def leaf(tokens: _Tokens, depth: int) -> Test:
        kind, word = tokens.take()
        op_kind, op = tokens.take()
        if kind != "word" or word != name or op_kind != "op" or op not in _NUMERIC:
            raise invalid()
        return _comparison(op, *tokens.literal())

    return leaf
