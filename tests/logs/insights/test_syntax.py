"""The Logs Insights grammar: what parses into which commands, and where a malformed query is faulted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.logs.insights.syntax import (
    Binary,
    Call,
    Display,
    Duration,
    Field,
    Fields,
    Filter,
    In,
    Like,
    Limit,
    ListOf,
    Literal,
    MalformedQuery,
    Named,
    Parse,
    Regex,
    Sort,
    Stats,
    parse_query,
)


def test_the_consoles_default_query() -> None:
    commands = parse_query("fields @timestamp, @message | sort @timestamp desc | limit 20").commands
    assert commands == (
        Fields((_named("@timestamp"), _named("@message"))),
        Sort(((Field("@timestamp"), True),)),
        Limit(20),
    )


def _named(name: str) -> Named:
    return Named(Field(name), name)


def test_the_issues_query_counts_errors_in_five_minute_bins() -> None:
    query = "fields @timestamp, @message | filter @message like /ERROR/ | stats count() by bin(5m)"
    stats = parse_query(query).commands[2]
    assert isinstance(stats, Stats)
    assert stats.aggregates[0].name == "count()" and stats.aggregates[0].expr == Call("count", ())
    assert stats.groups[0].name == "bin(5m)"
    assert stats.groups[0].expr == Call("bin", (Duration(300_000, "5m"),))
    assert parse_query(query).commands[1] == Filter(Like(Field("@message"), Regex("ERROR")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("filter a = 1 and b != 'x' or not c", "or"),
        ("filter status in [200, 201]", In(Field("status"), ListOf((Literal(200), Literal(201))))),
        ("filter @message =~ /err/i", Like(Field("@message"), Regex("err", "i"))),
        ("filter @message not like 'debug'", Like(Field("@message"), Literal("debug"), negated=True)),
        ("filter latency * 2 > 10", Binary(">", Binary("*", Field("latency"), Literal(2)), Literal(10))),
        ('filter `weird field` = "a\\"b"', Binary("=", Field("weird field"), Literal('a"b'))),
    ],
)
def test_filter_expressions(text: str, expected: object) -> None:
    condition = parse_query(text).commands[0].condition  # type: ignore[union-attr]
    if isinstance(expected, str):
        assert isinstance(condition, Binary) and condition.op == expected
    else:
        assert condition == expected


def test_parse_with_a_glob_and_with_a_regex() -> None:
    glob, regex = parse_query('parse @message "[*] *" as level, text | parse /id=(?<id>\\d+)/').commands
    assert glob == Parse("@message", glob="[*] *", names=("level", "text"))
    assert isinstance(regex, Parse) and regex.regex == Regex("id=(?<id>\\d+)")


def test_keywords_are_case_insensitive_and_comments_are_ignored() -> None:
    commands = parse_query("FIELDS x # the x\n| Filter x > 1 AND y < 2\n| DISPLAY x").commands
    assert isinstance(commands[1], Filter) and commands[2] == Display(("x",))


@pytest.mark.parametrize(
    ("text", "start"),
    [("fields a b", 9), ("filter", 6), ("limit x", 6), ("fields a |", 10), ("stats count() by", 16)],
)
def test_a_malformed_query_is_faulted_where_it_goes_wrong(text: str, start: int) -> None:
    with pytest.raises(MalformedQuery) as raised:
        parse_query(text)
    assert raised.value.code == "MalformedQueryException"
    assert raised.value.start == start
    assert "unexpected symbol found" in raised.value.message


def test_an_empty_query_is_refused() -> None:
    with pytest.raises(MalformedQuery):
        parse_query("   ")


@given(st.text(alphabet="fieldsstatsby|(),@ *=/'\"#<>0123456789abc\n", max_size=40))
def test_any_text_parses_or_is_malformed_never_anything_else(text: str) -> None:
    try:
        parse_query(text)
    except MalformedQuery as error:
        assert 0 <= error.start <= len(text)
