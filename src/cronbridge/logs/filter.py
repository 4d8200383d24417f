"""CloudWatch Logs filter patterns (PURE): terms, ?OR, -NOT, %regex%, {JSON}, [fields].

Every matcher runs in time linear in the message (regular expressions and wildcards on RE2), except a space-delimited
pattern with `...`, which is at most (fields x values); `weight` says so, for the caller's work budget."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cronbridge.errors import InvalidParameter
from cronbridge.logs import regex as expressions
from cronbridge.model.logs import Substrings

MAX_DEPTH = 32
_FORBIDDEN_IN_WORDS = set('"{}[]()%?')
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<regex>%[^%]*%)|(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|,)'
    r'|(?P<word>[^\s=!<>()&|",]+))'
)
_SELECTOR = re.compile(r"\$((?:\.[A-Za-z0-9_@\-]+|\[\d+\])+)")
_STEP = re.compile(r"\.([A-Za-z0-9_@\-]+)|\[(\d+)\]")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MISSING = object()
_CLOSERS = {'"': '"', "[": "]"}
_SPACES = re.compile(r"\s*")
_WORD = re.compile(r"\S+")


class Pattern(Protocol):
    """A parsed filter pattern. `exact`: `prefilter()` alone decides (no need to call `matches`)."""

    @property
    def exact(self) -> bool:
        """True when `prefilter()` alone decides."""
        ...

    @property
    def weight(self) -> int:
        """What matching costs per character of a message (1: linear time)."""
        ...

    def matches(self, message: str) -> bool:
        """Whether one event message matches."""
        ...

    def prefilter(self) -> Substrings | None:
        """Substrings every match contains (the store selects by them), if any."""
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
    weight: int = 1

    def matches(self, message: str) -> bool:
        return (
            all(t in message for t in self.required)
            and (not self.optional or any(t in message for t in self.optional))
            and not any(t in message for t in self.excluded)
        )

    def prefilter(self) -> Substrings | None:
        if not (self.required or self.optional or self.excluded):
            return None
        return Substrings(self.required, self.optional, self.excluded)


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
    """A `%regex%` pattern: AWS's subset of regular expressions, searched in the message (RE2: linear time)."""

    found: expressions.Search
    exact: bool = False

    @property
    def weight(self) -> int:
        return self.found.weight

    def matches(self, message: str) -> bool:
        return self.found.test(message)

    def prefilter(self) -> Substrings | None:
        return None


def _parse_regex(text: str) -> Regex:
    if len(text) < 3 or not text.endswith("%"):
        raise invalid()
    return Regex(expressions.search(text[1:-1]))


# comparisons shared by JSON and delimited patterns

Test = Callable[[Any], bool]


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


def _comparison(op: str, kind: str, literal: str) -> Test:
    """The test `actual <op> literal`: numeric for unquoted numbers, a search for %regex%, else string (= and !=)."""
    if kind == "word" and _NUMBER.fullmatch(literal):
        expected, compare = float(literal), _NUMERIC[op]

        def numeric(actual: Any) -> bool:
            number = _as_number(actual)
            return op == "!=" if number is None else compare(number, expected)

        return numeric
    if op not in ("=", "!="):
        raise invalid()
    same = expressions.search(literal[1:-1]).test if kind == "regex" else expressions.glob(literal)
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
        if sum(kind == "regex" for kind, _ in self.items) > expressions.MAX_PER_PATTERN:
            raise InvalidParameter(
                f"Invalid filter pattern: at most {expressions.MAX_PER_PATTERN} regular expressions are allowed "
                "in a JSON or space-delimited filter pattern"
            )
        regexes = [expressions.search(value[1:-1]).weight for kind, value in self.items if kind == "regex"]
        self.weight = max([1, *regexes])  # what one comparison costs per character, at most
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

    def literal(self) -> tuple[str, str]:
        """(kind, value) of a comparison's right side: a quoted string, a %regex% or a bare word."""
        kind, value = self.take()
        if kind == "str":
            return kind, _unquote(value)
        if kind not in ("word", "regex"):
            raise invalid()
        return kind, value


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
    weight: int = 1

    def matches(self, message: str) -> bool:
        try:
            document = json.loads(message)
        except (ValueError, RecursionError):
            return False
        return isinstance(document, dict | list) and self.test(document)

    def prefilter(self) -> Substrings | None:
        return Substrings(optional=("{", "["))


def _parse_json(text: str) -> JsonPattern:
    if not text.endswith("}"):
        raise invalid()
    tokens = _Tokens(text[1:-1])
    test = _boolean(tokens, _json_leaf, 0)
    if tokens.peek()[0] != "end":
        raise invalid()
    return JsonPattern(test, weight=tokens.weight)


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
    """A `[...]` pattern over space-delimited messages; `None` stands for `...` (any number of fields)."""

    fields: tuple[Test | None, ...]
    exact: bool = False
    names: tuple[str | None, ...] = ()  # each field's name (None for `...`), for metric values
    per_field: int = 1  # what one field's comparison costs per character

    @property
    def weight(self) -> int:
        """Fields around a `...` may each be tried at every value; otherwise each value is tried once."""
        tried = max(1, sum(test is not None for test in self.fields)) if None in self.fields else 1
        return tried * self.per_field

    def matches(self, message: str) -> bool:
        return _fits(self.fields, split_delimited(message))

    def prefilter(self) -> Substrings | None:
        return None


def _fits(fields: tuple[Test | None, ...], values: list[str]) -> bool:
    """Whether the values fit the fields, `...` taking any run: the first run of tests anchored at the start, the
    last at the end, each one between at its leftmost place (leftmost leaves the most room to what follows)."""
    runs = _runs(fields)
    if len(runs) == 1:
        return len(values) == len(runs[0]) and _run_at(runs[0], values, 0)
    first, middle, last = runs[0], runs[1:-1], runs[-1]
    end = len(values) - len(last)
    if end < len(first) or not _run_at(first, values, 0) or not _run_at(last, values, end):
        return False
    at = len(first)
    for run in middle:
        found = next((i for i in range(at, end - len(run) + 1) if _run_at(run, values, i)), None)
        if found is None:
            return False
        at = found + len(run)
    return True


def _runs(fields: tuple[Test | None, ...]) -> list[list[Test]]:
    """The tests between the `...`s: one more run than there are `...` (runs may be empty)."""
    runs: list[list[Test]] = [[]]
    for test in fields:
        if test is None:
            runs.append([])
        else:
            runs[-1].append(test)
    return runs


def _run_at(run: list[Test], values: list[str], at: int) -> bool:
    return all(test(values[at + k]) for k, test in enumerate(run))


def split_delimited(message: str) -> list[str]:
    """A message's fields: words split at white space, a "quoted" or [bracketed] run one field whatever it holds.

    Linear time: once a quote or bracket has no closing partner further on, none later does either."""
    values: list[str] = []
    unclosed: set[str] = set()
    i = _SPACES.match(message).end()  # type: ignore[union-attr]
    while i < len(message):
        close = _CLOSERS.get(message[i])
        end = -1 if close is None or close in unclosed else message.find(close, i + 1)
        if end >= 0:
            values.append(message[i + 1:end])
            end += 1
        else:
            if close is not None:
                unclosed.add(close)
            end = _WORD.match(message, i).end()  # type: ignore[union-attr]
            values.append(message[i:end])
        i = _SPACES.match(message, end).end()  # type: ignore[union-attr]
    return values


def _parse_delimited(text: str) -> Delimited:
    if not text.endswith("]"):
        raise invalid()
    tokens = _Tokens(text[1:-1])
    fields: list[Test | None] = []
    names: list[str | None] = []
    while True:
        word = tokens.peek()[1]
        fields.append(_delimited_field(tokens))
        names.append(None if fields[-1] is None else word)
        if tokens.peek()[0] == "end":
            return Delimited(tuple(fields), names=tuple(names), per_field=tokens.weight)
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
