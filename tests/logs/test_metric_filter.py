"""Metric filters: values and dimensions from matching events, TestMetricFilter, PutMetricFilter's refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.errors import InvalidParameter
from cronbridge.logs.filter import parse
from cronbridge.logs.metric_filter import Emission, Transformation, bind_fields, check, emission, test_metric_filter

APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534'
APACHE_PATTERN = "[ip, user, username, timestamp, request, status_code, bytes > 1000]"


def count(pattern: str) -> Transformation:
    return Transformation("Errors", "Batch", "1")


def test_a_term_pattern_counts_one_per_matching_event() -> None:
    pattern = parse("ERROR")
    assert emission(pattern, count("ERROR"), "ERROR disk full") == Emission(1.0)
    assert emission(pattern, count("ERROR"), "INFO fine") is None


def test_a_json_selector_gives_the_value_and_the_dimensions() -> None:
    pattern = parse('{ $.level = "error" }')
    latency = Transformation("Latency", "Batch", "$.latency", dimensions={"Service": "$.service"})
    assert emission(pattern, latency, '{"level": "error", "latency": 250, "service": "batch"}') == Emission(
        250.0, (("Service", "batch"),)
    )
    assert emission(pattern, latency, '{"level": "error", "latency": "slow", "service": "batch"}') is None
    assert emission(pattern, latency, '{"level": "error", "latency": 5}') is None  # no dimension value


def test_a_space_delimited_field_gives_the_value() -> None:
    pattern = parse(APACHE_PATTERN)
    size = Transformation("Bytes", "Web", "$bytes", dimensions={"Status": "$status_code"})
    assert emission(pattern, size, APACHE) == Emission(1534.0, (("Status", "200"),))


def test_fields_are_aligned_around_an_ellipsis() -> None:
    pattern = parse("[ip, ..., status = 404, size]")
    assert pattern.names == ("ip", None, "status", "size")  # type: ignore[attr-defined]
    assert bind_fields(pattern, ["1.2.3.4", "a", "b", "404", "77"]) == {
        "$ip": "1.2.3.4",
        "$status": "404",
        "$size": "77",
    }  # type: ignore[arg-type]


def test_test_metric_filter_reports_the_extracted_values() -> None:
    assert test_metric_filter(APACHE_PATTERN, [APACHE, "too short"]) == [
        {
            "eventNumber": 1,
            "eventMessage": APACHE,
            "extractedValues": {
                "$ip": "127.0.0.1",
                "$user": "-",
                "$username": "frank",
                "$timestamp": "10/Oct/2000:13:25:15 -0700",
                "$request": "GET /apache_pb.gif HTTP/1.0",
                "$status_code": "200",
                "$bytes": "1534",
            },
        }
    ]
    assert test_metric_filter("ERROR", ["INFO", "ERROR x"]) == [
        {"eventNumber": 2, "eventMessage": "ERROR x", "extractedValues": {}}
    ]


@pytest.mark.parametrize(
    ("pattern", "transformation", "message"),
    [
        ("ERROR", Transformation("m", "n", "1", default_value=0, dimensions={"a": "$.a"}), "default value"),
        ("ERROR", Transformation("m", "n", "$.latency"), "needs a JSON filter pattern"),
        ("[a, b]", Transformation("m", "n", "$c"), "not a named field"),
        ("[a, b]", Transformation("m", "n", "one"), "Invalid metricValue"),
        ("{ $.x = 1 }", Transformation("m", "n", "1", dimensions={f"d{i}": "$.x" for i in range(4)}), "at most 3"),
    ],
)
def test_put_metric_filter_refuses_a_value_or_dimension_the_pattern_cannot_give(
    pattern: str, transformation: Transformation, message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        check(parse(pattern), transformation)


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=8))
def test_the_last_named_field_carries_the_last_value(numbers: list[int]) -> None:
    pattern = parse("[first, ..., last]")
    message = " ".join(str(n) for n in numbers)
    if len(numbers) == 1:
        assert emission(pattern, Transformation("m", "n", "$last"), message) is None
    else:
        assert emission(pattern, Transformation("m", "n", "$last"), message) == Emission(float(numbers[-1]))
