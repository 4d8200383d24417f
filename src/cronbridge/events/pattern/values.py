"""Event values as the matcher sees them (strings, numbers with their text, literals) and the tests on one value."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

STRING, NUMBER, LITERAL = 0, 1, 2
NUMERIC_LIMIT = Decimal(5_000_000_000)  # AWS: numeric matching works between -5.0e9 and +5.0e9
_SCALE = Decimal(1_000_000)  # and with six digits to the right of the decimal point
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


@dataclass(frozen=True)
class Leaf:
    """One scalar of an event: `text` is a string's content, or a number's or literal's JSON text."""

    kind: int
    text: str
    number: int | None = None  # numbers: the comparable value (micro-units), when within the numeric range

    @property
    def is_string(self) -> bool:
        return self.kind == STRING


def string(value: str) -> Leaf:
    return Leaf(STRING, value)


def number(text: str) -> Leaf:
    return Leaf(NUMBER, text, comparable(text))


def literal(text: str) -> Leaf:
    """true, false or null."""
    return Leaf(LITERAL, text)


def comparable(text: str) -> int | None:
    """A JSON number as an integer of micro-units, or None outside -5e9..5e9 (numeric tests never match it)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > NUMERIC_LIMIT:
        return None
    return int((value * _SCALE).to_integral_value(rounding="ROUND_DOWN"))


def ip_number(text: str) -> tuple[int, int] | None:
    """An IP address as (version, integer), when the text is one (Event Ruler's two shapes, then a real parse)."""
    if not (_IPV4.fullmatch(text) or _IPV6.fullmatch(text)):
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


Test = Callable[[Leaf], bool]


def exact_string(expected: str) -> Test:
    return lambda leaf: leaf.kind == STRING and leaf.text == expected


def exact_ip(version: int, value: int) -> Test:
    """A pattern string that is an IP address matches the same address however it is written."""

    def test(leaf: Leaf) -> bool:
        return leaf.kind == STRING and ip_number(leaf.text) == (version, value)

    return test


def exact_number(text: str) -> Test:
    """A pattern number matches an equal number (numerically, within range) or the same JSON text."""
    expected = comparable(text)

    def test(leaf: Leaf) -> bool:
        if leaf.kind != NUMBER:
            return False
        return leaf.text == text or (expected is not None and leaf.number == expected)

    return test


def exact_literal(text: str) -> Test:
    return lambda leaf: leaf.kind == LITERAL and leaf.text == text


def prefix(start: str) -> Test:
    return lambda leaf: leaf.kind == STRING and leaf.text.startswith(start)


def suffix(end: str) -> Test:
    return lambda leaf: leaf.kind == STRING and leaf.text.endswith(end)


def same_ignoring_case(a: str, b: str) -> bool:
    """Event Ruler's equals-ignore-case: character by character, each either as written, lower or upper case."""
    return len(a) == len(b) and all(x == y or x == y.lower() or x == y.upper() for x, y in zip(a, b, strict=True))


def equals_ignore_case(expected: str) -> Test:
    return lambda leaf: leaf.kind == STRING and same_ignoring_case(leaf.text, expected)


def prefix_ignore_case(start: str) -> Test:
    n = len(start)
    return lambda leaf: leaf.kind == STRING and same_ignoring_case(leaf.text[:n], start)


def suffix_ignore_case(end: str) -> Test:
    n = len(end)
    return lambda leaf: leaf.kind == STRING and len(leaf.text) >= n and same_ignoring_case(leaf.text[-n:], end)


def wildcard(parts: tuple[str, ...]) -> Test:
    """A wildcard split at its unescaped `*`s: the value starts with the first part, ends with the last."""
    matcher = wildcard_matcher(parts)
    return lambda leaf: leaf.kind == STRING and matcher(leaf.text)


def wildcard_matcher(parts: tuple[str, ...]) -> Callable[[str], bool]:
    if len(parts) == 1:
        only = parts[0]
        return lambda text: text == only
    first, middle, last = parts[0], parts[1:-1], parts[-1]

    def matches(text: str) -> bool:
        if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
            return False
        pos, stop = len(first), len(text) - len(last)
        for part in middle:  # greedy leftmost placement of each middle part is optimal
            found = text.find(part, pos, stop)
            if found < 0:
                return False
            pos = found + len(part)
        return True

    return matches


def numeric_range(low: int | None, low_open: bool, high: int | None, high_open: bool) -> Test:
    def test(leaf: Leaf) -> bool:
        value = leaf.number
        if leaf.kind != NUMBER or value is None:
            return False
        if low is not None and (value <= low if low_open else value < low):
            return False
        return not (high is not None and (value >= high if high_open else value > high))

    return test


def cidr(version: int, low: int, high: int) -> Test:
    def test(leaf: Leaf) -> bool:
        if leaf.kind != STRING:
            return False
        address = ip_number(leaf.text)
        return address is not None and address[0] == version and low <= address[1] <= high

    return test


def anything_but(strings: Iterable[str], numbers: Iterable[int]) -> Test:
    """Fails only on a string in `strings` or a number numerically in `numbers`; missing fields never reach it."""
    string_set, number_set = frozenset(strings), frozenset(numbers)

    def test(leaf: Leaf) -> bool:
        if leaf.kind == STRING:
            return leaf.text not in string_set
        return not (leaf.kind == NUMBER and leaf.number is not None and leaf.number in number_set)

    return test


def anything_but_strings(excluded: Test) -> Test:
    """anything-but prefix/suffix/equals-ignore-case/wildcard: any value but a string the inner test accepts."""
    return lambda leaf: not excluded(leaf)


def any_of(tests: Iterable[Test]) -> Test:
    listed = tuple(tests)
    if len(listed) == 1:
        return listed[0]
    return lambda leaf: any(test(leaf) for test in listed)


def present(leaf: Leaf) -> bool:
    """exists: true — any value at all."""
    return True
