"""rate(): a fixed period counted from its start, not from the clock's round minutes."""

from __future__ import annotations

import pytest

from cronbridge.schedule import RateSchedule, parse

START = 1_700_000_017.25  # deliberately not on a minute


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(12 hours)", 43200),
        ("rate(1 day)", 86400),
        ("rate(7 days)", 604800),
    ],
)
def test_rate_periods(expression: str, period: int) -> None:
    schedule = parse(expression)
    assert isinstance(schedule, RateSchedule)
    assert schedule.period == period


def test_a_rule_rate_first_fires_one_period_after_creation() -> None:
    assert parse("rate(5 minutes)").next_after(START, start=START) == START + 300


def test_without_a_start_the_period_counts_from_the_given_instant() -> None:
    assert parse("rate(5 minutes)").next_after(START) == START + 300


def test_a_start_in_the_future_is_itself_the_first_fire() -> None:
    assert parse("rate(1 hour)").next_after(START - 10, start=START) == START


def test_fire_times_stay_on_the_start_grid() -> None:
    schedule = parse("rate(5 minutes)")
    fires = schedule.next_n(START + 1234.5, 3, start=START)
    assert fires == [START + 1500, START + 1800, START + 2100]


def test_a_fire_time_is_never_returned_twice() -> None:
    schedule = parse("rate(1 minute)")
    assert schedule.next_after(START + 60, start=START) == START + 120


def test_time_zone_does_not_change_a_rate() -> None:
    schedule = parse("rate(1 day)")
    assert schedule.next_after(START, "Australia/Lord_Howe", START) == START + 86400
