"""The filter-pattern grammar: tables of patterns and messages, and properties over random input."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.errors import InvalidParameter
from cronbridge.logs.filter import parse

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
    clause = pattern.sql()
    where, params = clause if clause is not None else ("1", [])
    rows = conn.execute(f"SELECT message FROM t WHERE {where} ORDER BY id", params)
    in_sql = [r[0] for r in rows]
    assert pattern.exact
    assert in_sql == [m for m in messages if pattern.matches(m)]
