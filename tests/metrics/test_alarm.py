"""CloudWatch alarm evaluation: AWS's documented tables of missing data, M out of N, statistics, reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cronbridge.metrics.alarm import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmRule,
    Datapoint,
    datapoints,
    evaluate,
    evaluation_range,
)

NOW = 1_700_000_040.0  # 22:14:00 UTC: the last complete 60 s period is 22:13:00-22:14:00
RETAIN = None


def points(spec: str) -> list[Datapoint]:
    """'0 - X - X': 0 does not breach, X breaches, - is missing; oldest first, periods of 60 s ending at NOW."""
    marks = spec.split()
    start = NOW - 60 * len(marks)
    value = {"0": 0.0, "X": 10.0, "-": None}
    return [Datapoint(start + 60 * i, value[m], 1.0 if value[m] is not None else 0.0) for i, m in enumerate(marks)]


def rule(m: int, n: int, treat: str) -> AlarmRule:
    return AlarmRule("Sum", 60, n, 5.0, "GreaterThanThreshold", m, treat)


TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
# AWS's tables ("How alarm state is evaluated when data is missing"): datapoints, then the state per treatment
THREE_OF_THREE = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - - - X", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("X - - - -", (ALARM, RETAIN, ALARM, OK)),
]
TWO_OF_THREE = [
    ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", (OK, OK, ALARM, OK)),
    ("- - - - 0", (OK, OK, ALARM, OK)),
    ("- - - - X", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
]


@pytest.mark.parametrize(("m", "table"), [(3, THREE_OF_THREE), (2, TWO_OF_THREE)])
def test_awss_missing_data_tables(m: int, table: list[tuple[str, tuple[str | None, ...]]]) -> None:
    for spec, expected in table:
        got = tuple(evaluate(rule(m, 3, treat), points(spec), NOW).state for treat in TREATMENTS)
        assert got == expected, spec


def test_the_reason_names_the_datapoints_and_the_threshold() -> None:
    evaluation = evaluate(AlarmRule("Sum", 60, 1, 1.0, "GreaterThanOrEqualToThreshold"), points("X"), NOW)
    assert evaluation.state == ALARM
    assert evaluation.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoint [10.0 (14/11/23 22:13:00)] was greater than or equal to "
        "the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    assert evaluation.reason_data["recentDatapoints"] == [10.0]
    assert evaluation.reason_data["statistic"] == "Sum"
    assert evaluation.reason_data["evaluatedDatapoints"] == [
        {"timestamp": "2023-11-14T22:13:00.000+0000", "sampleCount": 1.0, "value": 10.0}
    ]
    assert evaluate(rule(1, 1, "missing"), points("-"), NOW).reason == "Insufficient Data: 1 datapoint was unknown."


def test_datapoints_aggregate_samples_into_the_evaluation_range() -> None:
    alarm = AlarmRule("Sum", 60, 1, 0.0, "GreaterThanThreshold")
    start, end = evaluation_range(alarm, NOW + 30)
    assert (start, end) == (NOW - 180, NOW)
    samples = [(NOW - 59, 1.0), (NOW - 30, 1.0), (NOW - 61, 4.0), (NOW + 5, 100.0)]  # the last is not complete yet
    got = datapoints(alarm, samples, NOW + 30)
    assert [p.value for p in got] == [None, 4.0, 2.0]
    assert evaluate(alarm, got, NOW + 30).state == ALARM


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [
        ("Average", 2.5),
        ("Maximum", 4.0),
        ("Minimum", 1.0),
        ("SampleCount", 4.0),
        ("p50", 2.0),
        ("tm50", 1.5),
        ("TM(25%:75%)", 2.5),
        ("IQM", 2.5),
        ("tc50", 2.0),
        ("ts50", 3.0),
        ("PR(:2)", 50.0),
        ("wm50", 1.75),
    ],
)
def test_statistics_and_extended_statistics(statistic: str, expected: float) -> None:
    alarm = AlarmRule(statistic, 60, 1, 0.0, "GreaterThanThreshold")
    samples = [(NOW - 50, v) for v in (1.0, 2.0, 3.0, 4.0)]
    assert datapoints(alarm, samples, NOW)[-1].value == pytest.approx(expected)


def test_a_percentile_with_too_few_samples_is_ignored_when_asked() -> None:
    alarm = AlarmRule("p99", 60, 1, 0.0, "GreaterThanThreshold", evaluate_low_sample_count_percentile="ignore")
    assert evaluate(alarm, datapoints(alarm, [(NOW - 10, 5.0)], NOW), NOW).state is None
    evaluating = AlarmRule("p99", 60, 1, 0.0, "GreaterThanThreshold", evaluate_low_sample_count_percentile="evaluate")
    assert evaluate(evaluating, datapoints(evaluating, [(NOW - 10, 5.0)], NOW), NOW).state == ALARM


@given(st.lists(st.sampled_from(["0", "X"]), min_size=3, max_size=8), st.integers(1, 3))
def test_with_every_datapoint_present_the_state_is_m_of_the_last_n(marks: list[str], m: int) -> None:
    spec = " ".join(marks)
    state = evaluate(rule(m, 3, "missing"), points(spec), NOW).state
    assert state == (ALARM if marks[-3:].count("X") >= m else OK)
