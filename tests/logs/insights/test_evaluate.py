"""Running Logs Insights queries over events: results and statistics as GetQueryResults gives them."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbridge.logs.insights import LogRecord, query

BASE = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC


def event(offset_s: float, message: str, stream: str = "app/batch/1") -> LogRecord:
    millis = BASE + int(offset_s * 1000)
    return LogRecord(millis, message, stream, "/ecs/batch", "123456789012", millis + 5, f"ptr-{millis}")


EVENTS = [
    event(0, "INFO starting"),
    event(61, "ERROR disk full"),
    event(62, json.dumps({"level": "error", "latency": 250, "user": {"id": "u1"}, "tags": ["a", "b"]})),
    event(125, json.dumps({"level": "info", "latency": 40, "user": {"id": "u2"}})),
    event(301, "ERROR retry later", stream="app/batch/2"),
    event(302, "WARN slow"),
]


def rows(text: str, events: list[LogRecord] = EVENTS) -> list[dict[str, str]]:
    return [dict(row) for row in query(text, events).rows]


def test_stats_count_by_bin_counts_the_errors_per_five_minutes() -> None:
    result = rows("fields @timestamp, @message | filter @message like /ERROR/ | stats count() by bin(5m)")
    assert result == [
        {"bin(5m)": "2023-11-14 22:10:00.000", "count()": "1"},
        {"bin(5m)": "2023-11-14 22:15:00.000", "count()": "1"},
    ]


def test_without_fields_a_row_has_timestamp_message_and_ptr_newest_first() -> None:
    result = rows("filter @message like 'ERROR'")
    assert result == [
        {"@timestamp": "2023-11-14 22:18:21.000", "@message": "ERROR retry later", "@ptr": f"ptr-{BASE + 301_000}"},
        {"@timestamp": "2023-11-14 22:14:21.000", "@message": "ERROR disk full", "@ptr": f"ptr-{BASE + 61_000}"},
    ]


def test_json_fields_are_discovered_with_dotted_names() -> None:
    result = rows("filter level = 'error' | fields user.id, latency, tags.1")
    assert result == [{"user.id": "u1", "latency": "250", "tags.1": "b", "@ptr": f"ptr-{BASE + 62_000}"}]


def test_comparisons_are_numeric_when_both_sides_are_numbers() -> None:
    assert [r["latency"] for r in rows("filter latency > 100 | fields latency")] == ["250"]
    assert [r["latency"] for r in rows("filter latency in [40, 41] | fields latency")] == ["40"]
    assert rows("filter latency >= 40 and not (level = 'info') | fields level") == [
        {"level": "error", "@ptr": f"ptr-{BASE + 62_000}"}
    ]


def test_system_fields() -> None:
    result = rows("filter @message = 'WARN slow' | fields @log, @logStream, @ingestionTime")
    assert result == [
        {
            "@log": "123456789012:/ecs/batch",
            "@logStream": "app/batch/1",
            "@ingestionTime": "2023-11-14 22:18:22.005",
            "@ptr": f"ptr-{BASE + 302_000}",
        }
    ]


def test_parse_with_a_glob_and_a_regex_then_stats_by_the_parsed_field() -> None:
    result = rows(
        "parse @message '* *' as level, text | filter ispresent(text) and level in ['ERROR', 'WARN', 'INFO']"
        " | stats count(*) as n by level | sort n desc, level asc"
    )
    assert result == [{"level": "ERROR", "n": "2"}, {"level": "INFO", "n": "1"}, {"level": "WARN", "n": "1"}]
    parsed = rows(r"parse @message /(?<what>disk|retry) (?<how>\w+)/ | filter ispresent(what) | display what, how")
    assert [(r["what"], r["how"]) for r in parsed] == [("retry", "later"), ("disk", "full")]


def test_statistics_functions() -> None:
    result = rows(
        "filter ispresent(latency) | stats sum(latency) as s, avg(latency) as a, min(latency) as lo, "
        "max(latency) as hi, pct(latency, 50) as p50, count_distinct(user.id) as users, "
        "earliest(level) as first, latest(@timestamp) as last"
    )
    assert result == [
        {
            "s": "290",
            "a": "145",
            "lo": "40",
            "hi": "250",
            "p50": "40",
            "users": "2",
            "first": "error",
            "last": "2023-11-14 22:15:25.000",
        }
    ]


def test_scalar_functions_sort_limit_and_dedup() -> None:
    result = rows("fields strlen(@message) as n, toupper(substr(@message, 0, 4)) as head | sort n asc | limit 2")
    assert [(r["n"], r["head"]) for r in result] == [("9", "WARN"), ("13", "INFO")]
    assert len(rows("fields @logStream | dedup @logStream")) == 2


def test_statistics_report_what_was_scanned_and_matched() -> None:
    result = query("filter @message like /ERROR/ | limit 1", EVENTS)
    assert result.records_scanned == len(EVENTS)
    assert result.records_matched == 2
    assert len(result.rows) == 1
    assert result.bytes_scanned == sum(len(e.message.encode()) + 8 for e in EVENTS)


MESSAGES = st.lists(
    st.tuples(st.integers(0, 3_600_000), st.sampled_from(["ERROR a", "INFO b", "WARN c", '{"x": 1}'])), max_size=60
)


@settings(max_examples=100, deadline=None)
@given(MESSAGES, st.sampled_from(["1m", "5m", "30s", "1h"]))
def test_binned_counts_add_up_to_the_matching_events(messages: list[tuple[int, str]], period: str) -> None:
    events = [LogRecord(BASE + at, text, "s", "g") for at, text in messages]
    counted = query(f"filter @message like /ERROR/ | stats count() by bin({period})", events)
    assert sum(int(dict(r)["count()"]) for r in counted.rows) == sum(1 for _, t in messages if "ERROR" in t)
    assert counted.records_scanned == len(events)


@settings(max_examples=100, deadline=None)
@given(MESSAGES)
def test_sorting_by_timestamp_orders_the_rows(messages: list[tuple[int, str]]) -> None:
    events = [LogRecord(BASE + at, text, "s", "g") for at, text in messages]
    ascending = [dict(r)["@timestamp"] for r in query("sort @timestamp asc | limit 10000", events).rows]
    assert ascending == sorted(ascending)
