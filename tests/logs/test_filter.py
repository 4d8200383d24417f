"""The filter-pattern grammar: tables of patterns and messages, and properties over random input."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.errors import InvalidParameter
from cronbridge.logs.filter import parse
from cronbridge.store.database import SQLITE
from cronbridge.store.logs import substring_clause

MATCHES = [
    ("", "anything at all", True),
    ("ERROR", "[ERROR] disk full", True),
    ("ERROR", "error: disk full", False),
    ("ERROR Exception", "ERROR: NullPointerException", True),
    ("ERROR Exception", "ERROR: disk full", False),
    ('"disk full"', "ERROR: disk full now", True),
    ('"disk full"', "disk is full", False),
    ("?ERROR ?WARN", "WARN low memory", True),
    ("?ERROR ?WARN", "INFO fine", False),
    ("-DEBUG", "INFO fine", True),
    ("-DEBUG", "DEBUG noise", False),
    ('ERROR -"retry later"', "ERROR: retry later", False),
    ('"say \\"hi\\""', 'they say "hi"', True),
    ("%ERR[O]+R%", "xERRORR", True),
    ("%^INFO%", "an INFO", False),
    ('{ $.level = "error" }', '{"level": "error"}', True),
    ('{ $.level = "error" }', '{"level": "warn"}', False),
    ('{ $.level = "error" }', "not json", False),
    ("{ $.user.id = 2 }", '{"user": {"id": 2}}', True),
    ("{ $.latency > 50 && $.code != 200 }", '{"latency": 75, "code": 500}', True),
    ("{ $.latency > 50 && $.code != 200 }", '{"latency": 75, "code": 200}', False),
    ("{ ($.a = 1 || $.b = 2) && $.c = x* }", '{"b": 2, "c": "xyz"}', True),
    ("{ $.items[1] = two }", '{"items": ["one", "two"]}', True),
    ("{ $.ok IS TRUE }", '{"ok": true}', True),
    ("{ $.ok IS FALSE }", '{"ok": true}', False),
    ("{ $.gone IS NULL }", '{"gone": null}', True),
    ("{ $.gone NOT EXISTS }", '{"here": 1}', True),
    ("[ip, user, ..., status = 404, size]", '1.2.3.4 bob [10/Oct/2000] "GET /" 404 512', True),
    ("[ip, user, ..., status = 404, size]", '1.2.3.4 bob [10/Oct/2000] "GET /" 200 512', False),
    ("[a, b]", "one two three", False),
    ("[..., size > 1000]", "x y 2048", True),
    ("[level = ERR*, ...]", "ERROR a b", True),
    ("[code = 4* || code = 5*]", "503", True),
]

INVALID = [
    '"unclosed', "?", "-", "??x", "{ $.a = }", "{ $.a }", "{ a = 1 }", "{ $.a = 1", "[a b]", "[a,]",
    "{ $.a < abc }", "%(a)%", "%%", "ERROR)", '"a"b', "{ $.a IS MAYBE }", "[a = 1, b = 2 &&]",
]


@pytest.mark.parametrize(("pattern", "message", "expected"), MATCHES)
def test_patterns_match_as_cloudwatch_documents(pattern: str, message: str, expected: bool) -> None:
    assert parse(pattern).matches(message) is expected


@pytest.mark.parametrize("pattern", INVALID)
def test_malformed_patterns_are_invalid_filter_patterns(pattern: str) -> None:
    with pytest.raises(InvalidParameter, match="Invalid filter pattern"):
        parse(pattern)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_any_string_parses_or_is_an_invalid_filter_pattern(text: str) -> None:
    try:
        pattern = parse(text)
    except InvalidParameter:
        return
    pattern.matches("some message with ERROR and {\"a\": 1}")


ALPHABET = st.sampled_from(list("abAB -?\"{}[]$.=<>&|(),%*0123"))


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=30), st.text(ALPHABET, max_size=30))
def test_pattern_like_strings_parse_and_match_without_surprises(text: str, message: str) -> None:
    try:
        pattern = parse(text)
    except InvalidParameter:
        return
    assert isinstance(pattern.matches(message), bool)


WORDS = st.text(st.sampled_from(list("abcXY_.:/1")), min_size=1, max_size=4)
MESSAGES = st.text(st.sampled_from(list("abcXY_.:/1 é")), max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["", "?", "-"]), WORDS, st.booleans()), max_size=4),
    st.lists(MESSAGES, max_size=8),
)
def test_term_patterns_select_the_same_rows_in_sql_as_in_python(
    terms: list[tuple[str, str, bool]], messages: list[str]
) -> None:
    text = " ".join(sign + (f'"{word}"' if quoted else word) for sign, word, quoted in terms)
    pattern = parse(text)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, message TEXT)")
    conn.executemany("INSERT INTO t (message) VALUES (?)", [(m,) for m in messages])
    substrings = pattern.prefilter()
    where, params = substring_clause(SQLITE, substrings) if substrings is not None else ("1", [])
    rows = conn.execute(f"SELECT message FROM t WHERE {where} ORDER BY id", params)
    in_sql = [r[0] for r in rows]
    assert pattern.exact
    assert in_sql == [m for m in messages if pattern.matches(m)]


# hostile patterns and messages: every one is answered in time linear in the message (RE2, no backtracking)

REDOS = "%" + "a?" * 30 + "a" * 30 + "%"
HOSTILE = [
    (REDOS, "a" * 30, True),  # exponential in a backtracking engine
    (REDOS, "a" * 29 + "b", False),
    ("%(a+)+b%", None, None),  # parentheses are not in AWS's subset: refused, never compiled
    ("{ $.a = " + "a*" * 200 + "b }", '{"a": "' + "a" * 5000 + '"}', False),  # wildcards: no .*.*.* blow-up
    ("[" + ", ".join(["...", "x = 1"] * 40) + "]", "[ " * 50_000, False),  # unclosed brackets, many fields
    ("[a, ...]", '" ' * 100_000, True),  # an unclosed quote scanned once, not once per field
]


def _time_boxed(pattern: str, message: str) -> str:
    """Match in a child interpreter (a runaway match would hold this one's GIL); its answer, or a timeout."""
    import subprocess
    import sys

    code = (
        "import sys; from cronbridge.logs.filter import parse; "
        "print(parse(sys.argv[1]).matches(sys.stdin.read()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, pattern], input=message, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(("pattern", "message", "expected"), HOSTILE)
def test_hostile_patterns_answer_at_once_or_are_refused(pattern: str, message: str | None, expected: bool) -> None:
    if message is None:
        with pytest.raises(InvalidParameter, match="Invalid filter pattern"):
            parse(pattern)
        return
    assert _time_boxed(pattern, message) == str(expected)


def test_regular_expressions_work_inside_json_and_delimited_patterns() -> None:
    assert parse("{ $.eventType = %Trail% }").matches('{"eventType": "UpdateTrail"}')
    assert not parse("{ $.eventType = %^Trail% }").matches('{"eventType": "UpdateTrail"}')
    assert parse("{ $.ip != %^10\\.% }").matches('{"ip": "192.168.0.1"}')
    assert parse("[ip = %^1\\d{2}\\.%, ...]").matches("123.4.5.6 GET /")
    assert parse("{ $.a = %x|y% && $.b = %\\d+% }").matches('{"a": "y", "b": "42"}')


def test_at_most_two_regular_expressions_in_one_json_or_delimited_pattern() -> None:
    with pytest.raises(InvalidParameter, match="at most 2 regular expressions"):
        parse("{ $.a = %a% || $.b = %b% || $.c = %c% }")
    with pytest.raises(InvalidParameter, match="at most 2 regular expressions"):
        parse("[a = %a%, b = %b%, c = %c%]")


@pytest.mark.parametrize("pattern", ["%a{1001}%", "%something!%", "%é%", "%a.{999}c%"])
def test_regular_expressions_outside_the_subset_or_re2s_budget_are_invalid(pattern: str) -> None:
    with pytest.raises(InvalidParameter, match="Invalid filter pattern"):
        parse(pattern)


def test_delimited_weight_grows_with_fields_only_around_an_ellipsis() -> None:
    assert parse("[a, b = 1, c]").weight == 1
    assert parse("[..., b = 1, c = 2]").weight == 2


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["x", "y", "*"])), max_size=6),
    st.lists(st.sampled_from(["x", "y", "z"]), max_size=8),
)
def test_delimited_fields_match_exactly_as_a_glob_over_fields(fields: list[str | None], values: list[str]) -> None:
    import fnmatch

    body = ", ".join("..." if f is None else ("f" if f == "*" else f"f = {f}") for f in fields) or "..."
    glob = "".join("*" if f is None else ("?" if f == "*" else f) for f in fields) or "*"
    assert parse(f"[{body}]").matches(" ".join(values)) is fnmatch.fnmatchcase("".join(values), glob)


def test_a_regular_expressions_weight_grows_with_its_program() -> None:
    assert parse("%ERROR%").weight == 1
    assert parse("%a.{99}c%").weight > 5
    assert parse("{ $.a = %a.{99}c% }").weight == parse("%a.{99}c%").weight
