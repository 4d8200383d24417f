"""PURE. ECS's cluster query language (placementConstraints of type memberOf): parse an expression and decide
whether an instance, given as its subjects' values, is a member."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MAX_EXPRESSION = 2000
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<quoted>'[^']*'|"[^"]*")
    | (?P<symbol>!exists|!in|&&|\|\||==|!=|>=|<=|=~|!~|[()\[\],<>!])
    | (?P<word>[^\s()\[\],'"<>!=~&|]+)
    )""",
    re.VERBOSE,
)
_OPERATORS = {
    "==": "==", "equals": "==", "!=": "!=", "not_equals": "!=",
    ">": ">", "greater_than": ">", ">=": ">=", "greater_than_equal": ">=",
    "<": "<", "less_than": "<", "<=": "<=", "less_than_equal": "<=",
    "exists": "exists", "!exists": "!exists", "not_exists": "!exists",
    "in": "in", "!in": "!in", "not_in": "!in",
    "=~": "=~", "matches": "=~", "!~": "!~", "not_matches": "!~",
}  # fmt: skip
_UNARY = {"exists", "!exists"}
_NEGATIVE = {"!=", "!exists", "!in", "!~"}  # true for an instance that lacks the subject
SUBJECTS = ("attribute:", "ec2InstanceId", "agentConnected", "agentVersion", "registeredAt", "runningTasksCount",
            "task:group")  # fmt: skip


class ExpressionError(ValueError):
    """An expression that is not in the cluster query language."""


@dataclass(frozen=True)
class Comparison:
    subject: str
    operator: str
    argument: tuple[str, ...] = ()

    def holds(self, instance: Mapping[str, str]) -> bool:
        value = instance.get(self.subject)
        if value is None:
            return self.operator in _NEGATIVE
        return _compare(self.operator, value, self.argument)


@dataclass(frozen=True)
class Not:
    inner: Expression

    def holds(self, instance: Mapping[str, str]) -> bool:
        return not self.inner.holds(instance)


@dataclass(frozen=True)
class Both:
    left: Expression
    right: Expression

    def holds(self, instance: Mapping[str, str]) -> bool:
        return self.left.holds(instance) and self.right.holds(instance)


@dataclass(frozen=True)
class Either:
    left: Expression
    right: Expression

    def holds(self, instance: Mapping[str, str]) -> bool:
        return self.left.holds(instance) or self.right.holds(instance)


Expression = Comparison | Not | Both | Either


def parse(text: str) -> Expression:
    """An expression such as `attribute:ecs.instance-type =~ t2.* and not(attribute:zone in [a, b])`."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION} characters")
    parser = _Parser(_tokens(text))
    expression = parser.either()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r}")
    return expression


def subjects(expression: Expression) -> set[str]:
    """Every subject the expression looks at."""
    if isinstance(expression, Comparison):
        return {expression.subject}
    if isinstance(expression, Not):
        return subjects(expression.inner)
    return subjects(expression.left) | subjects(expression.right)


def _tokens(text: str) -> list[str]:
    tokens, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise ExpressionError(f"cannot read the expression at {text[at:at + 20]!r}")
        tokens.append(match.group(match.lastgroup or "word"))
        at = match.end()
    return tokens


class _Parser:
    """Recursive descent: `or` binds loosest, then `and`, then `not`; parentheses group."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.at += 1
        return token

    def either(self) -> Expression:
        left = self.both()
        while self.peek() in ("||", "or"):
            self.take()
            left = Either(left, self.both())
        return left

    def both(self) -> Expression:
        left = self.negation()
        while self.peek() in ("&&", "and"):
            self.take()
            left = Both(left, self.negation())
        return left

    def negation(self) -> Expression:
        if self.peek() in ("!", "not"):
            self.take()
            return Not(self.negation())
        if self.peek() == "(":
            self.take()
            inner = self.either()
            self._expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        subject = self.take()
        if not subject.startswith(SUBJECTS) or subject == "attribute:":
            raise ExpressionError(f"unknown subject {subject!r}")
        word = self.take()
        operator = _OPERATORS.get(word)
        if operator is None:
            raise ExpressionError(f"unknown operator {word!r} after {subject}")
        if operator in _UNARY:
            return Comparison(subject, operator)
        argument = self._list() if operator in ("in", "!in") else (_literal(self.take()),)
        if operator in ("=~", "!~"):
            _pattern(argument[0])
        return Comparison(subject, operator, argument)

    def _list(self) -> tuple[str, ...]:
        self._expect("[")
        values = [_literal(self.take())]
        while self.peek() == ",":
            self.take()
            values.append(_literal(self.take()))
        self._expect("]")
        return tuple(values)

    def _expect(self, token: str) -> None:
        found = self.take()
        if found != token:
            raise ExpressionError(f"expected {token!r}, found {found!r}")


def _literal(token: str) -> str:
    if token[:1] in ("'", '"'):
        return token[1:-1]
    if token in "()[],!":
        raise ExpressionError(f"expected a value, found {token!r}")
    return token


def _pattern(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise ExpressionError(f"bad pattern {text!r}: {exc}") from exc


def _compare(operator: str, value: str, argument: tuple[str, ...]) -> bool:
    if operator in ("exists", "!exists"):
        return operator == "exists"
    if operator in ("in", "!in"):
        return (value in argument) == (operator == "in")
    if operator in ("=~", "!~"):
        return (_pattern(argument[0]).fullmatch(value) is not None) == (operator == "=~")
    return _order(operator, _key(value), _key(argument[0]))


def _key(text: str) -> tuple[int, float, str]:
    """Numbers compare as numbers, anything else as text (numbers sort first)."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _order(operator: str, left: tuple[int, float, str], right: tuple[int, float, str]) -> bool:
    return {
        "==": left == right, "!=": left != right, ">": left > right,
        ">=": left >= right, "<": left < right, "<=": left <= right,
    }[operator]  # fmt: skip
