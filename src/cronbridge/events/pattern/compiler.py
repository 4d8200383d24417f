"""Event pattern text -> sub-rules (one per `$or` branch), each a sorted list of field steps; EventBridge's refusals."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cronbridge.events.pattern import values as v
from cronbridge.events.pattern.jackson import Cursor, PatternSyntaxError, Token

T = TypeVar("T")
OR = "$or"
RESERVED_IN_OR = frozenset(
    [
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    ]
)
MAX_WILDCARD_COMPLEXITY = 12
_ANYTHING_BUT_INNER = ("equals-ignore-case", "prefix", "suffix", "wildcard")


@dataclass(frozen=True)
class Step:
    """One field of a sub-rule: its dotted path, the tests any one value may pass, and whether absence passes."""

    path: str
    tests: tuple[v.Test, ...]
    absent_ok: bool
    wildcards: tuple[tuple[str, ...], ...] = ()  # the field's wildcard patterns (for the complexity check)
    exact: frozenset[str] | None = None  # when the field must be one of these strings (an index key)


SubRule = tuple[Step, ...]


@dataclass(frozen=True)
class _Field:
    tests: tuple[v.Test, ...]
    absent_ok: bool
    wildcards: tuple[tuple[str, ...], ...]
    exact: frozenset[str] | None


def compile_rules(text: str) -> list[SubRule]:
    """The pattern's sub-rules (steps sorted by path); PatternSyntaxError with EventBridge's reason otherwise."""
    cursor = Cursor(text)
    if cursor.next_token() is not Token.START_OBJECT:
        raise cursor.fail("Filter is not an object")
    rules: list[dict[str, _Field]] = []
    _object(rules, (), cursor, inside_or=False)
    compiled = [tuple(Step(path, *_unpack(f)) for path, f in sorted(r.items())) for r in rules]
    for rule in compiled:
        _check_complexity(rule)
    return compiled


def _unpack(field: _Field) -> tuple[tuple[v.Test, ...], bool, tuple[tuple[str, ...], ...], frozenset[str] | None]:
    return field.tests, field.absent_ok, field.wildcards, field.exact


def _object(rules: list[dict[str, _Field]], path: tuple[str, ...], cursor: Cursor, inside_or: bool) -> None:
    fields_present = False
    while cursor.next_token() is not Token.END_OBJECT:
        fields_present = True
        name = cursor.name
        if name == OR:
            _or(rules, path, cursor)
            continue
        if inside_or and name in RESERVED_IN_OR:
            raise cursor.fail(f"{name} is Ruler reserved fieldName which cannot be used inside {OR}.")
        token = cursor.next_token()
        if token is Token.START_OBJECT:
            _object(rules, (*path, name), cursor, inside_or)
        elif token is Token.START_ARRAY:
            _write(rules, ".".join((*path, name)), _values(cursor))
        else:
            raise cursor.fail(f'"{name}" must be an object or an array')
    if not fields_present:
        raise cursor.fail("Empty objects are not allowed")


def _or(rules: list[dict[str, _Field]], path: tuple[str, ...], cursor: Cursor) -> None:
    current = [dict(rule) for rule in rules]
    rules.clear()
    if cursor.next_token() is not Token.START_ARRAY:
        raise cursor.fail(f"It must be an Array followed with {OR}.")
    branches = 0
    while (token := cursor.next_token()) is not Token.END_ARRAY:
        branches += 1
        if token is not Token.START_OBJECT:
            raise cursor.fail(f"Only JSON object is allowed in array of {OR} relationship.")
        branch = [dict(rule) for rule in current] or [{}]
        _object(branch, path, cursor, inside_or=True)
        rules.extend(branch)
    if branches < 2:
        raise cursor.fail(f"There must have at least 2 Objects in {OR} relationship.")


def _write(rules: list[dict[str, _Field]], name: str, field: _Field) -> None:
    if not rules:
        rules.append({})
    for rule in rules:
        rule[name] = field


# a field's list of values ------------------------------------------------------------------------------------


def _values(cursor: Cursor) -> _Field:
    tests: list[v.Test] = []
    absent_ok = False
    wildcards: list[tuple[str, ...]] = []
    exact: set[str] | None = set()
    count = 0
    while (token := cursor.next_token()) is not Token.END_ARRAY:
        count += 1
        if token is Token.STRING and exact is not None:
            exact.add(cursor.get_text())
            exact = exact if v.ip_number(cursor.get_text()) is None else None
        else:
            exact = None
        if token is Token.START_OBJECT:
            kind, test, wildcard = _match_expression(cursor)
            if kind == "absent":
                absent_ok = True
            elif test is not None:
                tests.append(test)
            if wildcard is not None:
                wildcards.append(wildcard)
        else:
            tests.append(_bare_value(cursor, token))
    if count == 0:
        raise cursor.fail("Empty arrays are not allowed")
    return _Field(tuple(tests), absent_ok, tuple(wildcards), None if exact is None or absent_ok else frozenset(exact))


def _bare_value(cursor: Cursor, token: Token) -> v.Test:
    if token is Token.STRING:
        text = cursor.get_text()
        address = v.ip_number(text)
        return v.exact_ip(*address) if address else v.exact_string(text)
    if token.numeric:
        return v.exact_number(cursor.get_text())
    if token in (Token.TRUE, Token.FALSE, Token.NULL):
        return v.exact_literal(cursor.get_text())
    raise cursor.fail("Match value must be String, number, true, false, or null")


Expression = tuple[str, v.Test | None, tuple[str, ...] | None]


def _match_expression(cursor: Cursor) -> Expression:
    if cursor.next_token() is not Token.FIELD_NAME:
        raise cursor.fail("Match expression name not found")
    kind = cursor.name
    handler = _EXPRESSIONS.get(kind)
    if handler is None:
        raise cursor.fail(f"Unrecognized match type {kind}")
    return handler(cursor)


def _end_of_expression(cursor: Cursor, numeric: bool = False) -> None:
    if cursor.next_token() is not Token.END_OBJECT:
        raise cursor.fail(
            "Too many elements in numeric expression" if numeric else "Only one key allowed in match expression"
        )


def _string_argument(cursor: Cursor, kind: str) -> str:
    if cursor.next_token() is not Token.STRING:
        raise cursor.fail(f"{kind} match pattern must be a string")
    return cursor.get_text()


def _exactly(cursor: Cursor) -> Expression:
    text = _string_argument(cursor, "exact")
    _end_of_expression(cursor)
    return "value", v.exact_string(text), None


def _prefix(cursor: Cursor) -> Expression:
    token = cursor.next_token()
    if token is Token.START_OBJECT:
        text = _ignore_case_argument(cursor, "Prefix", "prefix")
        return "value", v.prefix_ignore_case(text), None
    if token is not Token.STRING:
        raise cursor.fail("prefix match pattern must be a string")
    text = cursor.get_text()
    _end_of_expression(cursor)
    return "value", v.prefix(text), None


def _suffix(cursor: Cursor) -> Expression:
    token = cursor.next_token()
    if token is Token.START_OBJECT:
        text = _ignore_case_argument(cursor, "Suffix", "suffix")
        return "value", v.suffix_ignore_case(text), None
    if token is not Token.STRING:
        raise cursor.fail("suffix match pattern must be a string")
    text = cursor.get_text()
    _end_of_expression(cursor)
    return "value", v.suffix(text), None


def _ignore_case_argument(cursor: Cursor, label: str, kind: str) -> str:
    """`{"prefix": {"equals-ignore-case": "x"}}` and the suffix form: the inner string."""
    if cursor.next_token() is not Token.FIELD_NAME:
        raise cursor.fail(f"{label} expression name not found")
    if cursor.name != "equals-ignore-case":
        raise cursor.fail(f"Unsupported {kind} pattern: {cursor.name}")
    text = _string_argument(cursor, "equals-ignore-case")
    _end_of_expression(cursor)
    _end_of_expression(cursor)
    return text


def _equals_ignore_case(cursor: Cursor) -> Expression:
    text = _string_argument(cursor, "equals-ignore-case")
    _end_of_expression(cursor)
    return "value", v.equals_ignore_case(text), None


def _wildcard(cursor: Cursor) -> Expression:
    text = _string_argument(cursor, "wildcard")
    parts = _wildcard_parts(cursor, text)
    _end_of_expression(cursor)
    return "value", v.wildcard(parts), parts


def _wildcard_parts(cursor: Cursor, text: str) -> tuple[str, ...]:
    """Split at unescaped `*`; `\\*` and `\\\\` are escapes; EventBridge's errors name the byte position."""
    parts: list[str] = []
    current: list[int] = []
    data = ('"' + text + '"').encode()
    i = 1
    while i < len(data) - 1:
        byte = data[i]
        if byte == ord("*"):
            if data[i + 1] == ord("*"):
                raise cursor.fail(f"Consecutive wildcard characters at pos {i}")
            parts.append(bytes(current).decode())
            current = []
        elif byte == ord("\\"):
            if data[i + 1] not in (ord("*"), ord("\\")):
                raise cursor.fail(f"Invalid escape character at pos {i}")
            current.append(data[i + 1])
            i += 1
        else:
            current.append(byte)
        i += 1
    parts.append(bytes(current).decode())
    return tuple(parts)


def _exists(cursor: Cursor) -> Expression:
    token = cursor.next_token()
    if token not in (Token.TRUE, Token.FALSE):
        raise cursor.fail("exists match pattern must be either true or false.")
    _end_of_expression(cursor)
    return ("value", v.present, None) if token is Token.TRUE else ("absent", None, None)


def _cidr(cursor: Cursor) -> Expression:
    text = _string_argument(cursor, "prefix")  # EventBridge's own wording for a cidr that is not a string
    test = _cidr_test(text)
    _end_of_expression(cursor)
    return "value", test, None


def _cidr_test(text: str) -> v.Test:
    """cidr's refusals carry no location (EventBridge reports them bare)."""
    pieces = text.split("/")
    if len(pieces) != 2:
        raise PatternSyntaxError("Malformed CIDR, one '/' required")
    if not re.fullmatch(r"[+-]?\d+", pieces[1]):
        raise PatternSyntaxError("Malformed CIDR, mask bits must be an integer")
    bits = int(pieces[1])
    if bits < 0:
        raise PatternSyntaxError("Malformed CIDR, mask bits must not be negative")
    address = _ip_or_refuse(pieces[0])
    if address.version == 4 and bits > 31:
        raise PatternSyntaxError("IPv4 mask bits must be < 32")
    if address.version == 6 and bits > 127:
        raise PatternSyntaxError("IPv6 mask bits must be < 128")
    network = ipaddress.ip_network(f"{address}/{bits}", strict=False)
    return v.cidr(address.version, int(network.network_address), int(network.broadcast_address))


def _ip_or_refuse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if v.ip_number(text) is None:
        shaped = re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|[0-9a-fA-F:]*:[0-9a-fA-F:]*", text)
        raise PatternSyntaxError(f"{'Invalid' if shaped else 'Nonstandard'} IP address: {text}")
    return ipaddress.ip_address(text)


# numeric ranges ----------------------------------------------------------------------------------------------


def _numeric(cursor: Cursor) -> Expression:
    if cursor.next_token() is not Token.START_ARRAY:
        raise cursor.fail("Value of numeric must be an array.")
    test = _numeric_range(cursor)
    _end_of_expression(cursor, numeric=True)
    return "value", test, None


def _numeric_range(cursor: Cursor) -> v.Test:
    token = cursor.next_token()
    if token is not Token.STRING:
        raise cursor.fail(f"Invalid member in numeric match: {cursor.get_text()}")
    operator = cursor.get_text()
    token = cursor.next_token()
    if operator not in ("=", ">=", ">", "<=", "<"):
        raise cursor.fail(f"Unrecognized numeric range operator: {operator}")
    if not token.numeric:
        raise cursor.fail(f"Value of {operator} must be numeric")
    value = _bound(cursor)
    if operator in ("=", "<=", "<"):
        if cursor.next_token() is not Token.END_ARRAY:
            raise cursor.fail("Too many elements in numeric expression")
        if operator == "=":
            return v.numeric_range(value, False, value, False)
        return v.numeric_range(None, False, value, operator == "<")
    token = cursor.next_token()
    if token is Token.END_ARRAY:
        return v.numeric_range(value, operator == ">", None, False)
    return _range_top(cursor, token, value, operator == ">")


def _range_top(cursor: Cursor, token: Token, bottom: int, open_bottom: bool) -> v.Test:
    if token is not Token.STRING:
        raise cursor.fail(f"Bad value in numeric range: {cursor.get_text()}")
    operator = cursor.get_text()
    if operator not in ("<", "<="):
        raise cursor.fail(f"Bad numeric range operator: {operator}")
    if not cursor.next_token().numeric:
        raise cursor.fail(f"Value of {operator} must be numeric")
    top = _bound(cursor)
    if cursor.next_token() is not Token.END_ARRAY:
        raise cursor.fail("Too many terms in numeric range expression")
    if bottom >= top:
        raise cursor.fail("Bottom must be less than top")
    return v.numeric_range(bottom, open_bottom, top, operator == "<")


def _bound(cursor: Cursor) -> int:
    value = v.comparable(cursor.get_text())
    if value is None:
        raise cursor.fail("Value must be between -5.0E9 and 5.0E9, inclusive")
    return value


# anything-but -----------------------------------------------------------------------------------------------


def _anything_but(cursor: Cursor) -> Expression:
    inner = ""
    token = cursor.next_token()
    if token is Token.START_OBJECT:
        if cursor.next_token() is not Token.FIELD_NAME:
            raise cursor.fail("Anything-But expression name not found")
        inner = cursor.name
        if inner not in _ANYTHING_BUT_INNER:
            raise cursor.fail(f"Unsupported anything-but pattern: {inner}")
        token = cursor.next_token()
    if token not in (Token.START_ARRAY, Token.STRING, Token.INT, Token.FLOAT):
        raise cursor.fail("Value of anything-but must be an array or single string/number value.")
    test, wildcard = _anything_but_values(cursor, token, inner)
    _end_of_expression(cursor, numeric=True)
    if inner:
        _end_of_expression(cursor, numeric=True)
    return "value", test, wildcard


def _anything_but_values(cursor: Cursor, token: Token, inner: str) -> tuple[v.Test, tuple[str, ...] | None]:
    if not inner:
        return _anything_but_plain(cursor, token), None
    texts = _inner_strings(cursor, token, inner)
    if inner == "wildcard":
        parts = [_wildcard_parts(cursor, text) for text in texts]
        excluded = v.any_of(v.wildcard(p) for p in parts)
        return v.anything_but_strings(excluded), max(parts, key=len)
    build = {"prefix": v.prefix, "suffix": v.suffix, "equals-ignore-case": v.equals_ignore_case}[inner]
    return v.anything_but_strings(v.any_of(build(text) for text in texts)), None


def _inner_strings(cursor: Cursor, token: Token, inner: str) -> list[str]:
    """The strings of anything-but's prefix/suffix/equals-ignore-case/wildcard: one, or a list."""
    if token is not Token.START_ARRAY:
        return [_inner_string(cursor, token, inner)]
    texts = []
    while (token := cursor.next_token()) is not Token.END_ARRAY:
        texts.append(_rethrown(cursor, lambda t=token: _inner_string(cursor, t, inner)))  # type: ignore[misc]
    return texts


def _inner_string(cursor: Cursor, token: Token, inner: str) -> str:
    if token is not Token.STRING:
        if inner == "equals-ignore-case":
            raise cursor.fail(
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
            )
        if inner == "wildcard":
            raise cursor.fail("wildcard match pattern must be a string")
        raise cursor.fail("prefix/suffix match pattern must be a string")
    text = cursor.get_text()
    if inner in ("prefix", "suffix") and not text:
        raise cursor.fail("Null prefix/suffix not allowed")
    return text


def _anything_but_plain(cursor: Cursor, token: Token) -> v.Test:
    if token is Token.STRING:
        return v.anything_but([cursor.get_text()], [])
    if token.numeric:
        return v.anything_but([], [_bound(cursor)])
    strings: list[str] = []
    numbers: list[int] = []
    while (token := cursor.next_token()) is not Token.END_ARRAY:
        if token is Token.STRING:
            strings.append(cursor.get_text())
        elif token.numeric:
            numbers.append(_rethrown(cursor, lambda: _bound(cursor)))
        else:
            raise _rethrow(cursor, cursor.fail("Inside anything but list, start|null|boolean is not supported."))
    if bool(strings) == bool(numbers):
        raise cursor.fail(
            "Inside anything but list, either all values are number or string, mixed type is not supported"
        )
    return v.anything_but(strings, numbers)


def _rethrown(cursor: Cursor, read: Callable[[], T]) -> T:
    """Ruler catches a refusal inside an anything-but list and refuses again: the location appears twice."""
    try:
        return read()
    except PatternSyntaxError as error:
        raise _rethrow(cursor, error) from None


def _rethrow(cursor: Cursor, error: PatternSyntaxError) -> PatternSyntaxError:
    return PatternSyntaxError(error.reason + error.location, cursor.location())


_EXPRESSIONS = {
    "exactly": _exactly,
    "prefix": _prefix,
    "suffix": _suffix,
    "numeric": _numeric,
    "anything-but": _anything_but,
    "exists": _exists,
    "cidr": _cidr,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
}


# wildcard complexity ----------------------------------------------------------------------------------------


def _check_complexity(rule: SubRule) -> None:
    for step in rule:
        if step.wildcards and wildcard_complexity(*step.wildcards) > MAX_WILDCARD_COMPLEXITY:
            raise PatternSyntaxError(
                "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
                "sequences after a wildcard character"
            )


def wildcard_complexity(*wildcards: tuple[str, ...]) -> int:
    """The most states one field's wildcards can be in at once over any input (Event Ruler's measure, roughly):
    their automata run side by side over the quoted value, and a state that can no longer match is dropped."""
    machines = [_symbols(parts) for parts in dict.fromkeys(wildcards) if len(parts) > 1]
    if not machines:
        return 0
    alphabet = {s for symbols in machines for s in symbols if s is not None} | {"\x00"}
    start = frozenset((k, i) for k, symbols in enumerate(machines) for i in _closure(frozenset({0}), symbols))
    seen, queue, best = {start}, [start], 0
    while queue and len(seen) < 20_000:
        states = queue.pop()
        best = max(best, sum(1 for k, i in states if i < len(machines[k])))
        for char in alphabet:
            following = frozenset(
                (k, j)
                for k in range(len(machines))
                for j in _step(frozenset(i for m, i in states if m == k), machines[k], char)
            )
            if following and following not in seen:
                seen.add(following)
                queue.append(following)
    return best


def _symbols(parts: tuple[str, ...]) -> list[str | None]:
    symbols: list[str | None] = ['"']
    for i, part in enumerate(parts):
        symbols.extend(part)
        if i < len(parts) - 1:
            symbols.append(None)  # a star
    symbols.append('"')
    return symbols


def _closure(states: frozenset[int], symbols: list[str | None]) -> frozenset[int]:
    out, stack = set(states), list(states)
    while stack:
        i = stack.pop()
        if i < len(symbols) and symbols[i] is None and i + 1 not in out:
            out.add(i + 1)
            stack.append(i + 1)
    return frozenset(out)


def _step(states: frozenset[int], symbols: list[str | None], char: str) -> frozenset[int]:
    following = set()
    for i in states:
        if i < len(symbols):
            if symbols[i] is None:
                following.add(i)
            elif symbols[i] == char:
                following.add(i + 1)
    return _closure(frozenset(following), symbols)
