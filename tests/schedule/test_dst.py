"""DST in fixed zones: a nonexistent local time is skipped, a repeated one fires once (first)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cronbridge.schedule import parse


def utc(text: str) -> float:
    """An instant written as UTC 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


CASES = [
    # zone, expression, after (UTC), expected next fire times (UTC)
    (
        "America/New_York",
        "cron(30 2 * * ? *)",
        "2024-03-09 07:30",
        ["2024-03-11 06:30", "2024-03-12 06:30"],
    ),
    (
        "America/New_York",
        "cron(*/30 * * * ? *)",
        "2024-03-10 06:15",
        ["2024-03-10 06:30", "2024-03-10 07:00", "2024-03-10 07:30"],
    ),
    (
        "America/New_York",
        "cron(30 1 * * ? *)",
        "2024-11-02 12:00",
        ["2024-11-03 05:30", "2024-11-04 06:30"],
    ),
    (
        "America/New_York",
        "cron(*/30 * * * ? *)",
        "2024-11-03 04:45",
        ["2024-11-03 05:00", "2024-11-03 05:30", "2024-11-03 07:00"],
    ),
    (
        "America/New_York",
        "cron(0 2 * * ? *)",
        "2024-11-03 05:30",
        ["2024-11-03 07:00"],
    ),
    (
        "Europe/Berlin",
        "cron(30 2 * * ? *)",
        "2024-03-30 01:30",
        ["2024-04-01 00:30"],
    ),
    (
        "Europe/Berlin",
        "cron(30 2 * * ? *)",
        "2024-10-26 12:00",
        ["2024-10-27 00:30", "2024-10-28 01:30"],
    ),
    (
        "Europe/Berlin",
        "cron(0 3 ? * SUN *)",
        "2024-03-30 00:00",
        ["2024-03-31 01:00", "2024-04-07 01:00"],
    ),
    (
        "Australia/Lord_Howe",
        "cron(15 2 * * ? *)",
        "2024-10-04 15:45",
        ["2024-10-06 15:15"],
    ),
    (
        "Australia/Lord_Howe",
        "cron(45 1 * * ? *)",
        "2024-04-06 12:00",
        ["2024-04-06 14:45", "2024-04-07 15:15"],
    ),
    (
        "Australia/Lord_Howe",
        "cron(*/15 * * * ? *)",
        "2024-10-05 15:10",
        ["2024-10-05 15:15", "2024-10-05 15:30", "2024-10-05 15:45"],
    ),
    (
        "America/Santiago",
        "cron(0 0 * * ? *)",
        "2024-09-07 04:00",
        ["2024-09-09 03:00"],
    ),
    (
        "America/Santiago",
        "cron(30 23 * * ? *)",
        "2024-04-06 12:00",
        ["2024-04-07 02:30", "2024-04-08 03:30"],
    ),
    (
        "America/Santiago",
        "cron(0 0 8 9 ? *)",
        "2024-01-01 00:00",
        ["2025-09-08 03:00"],
    ),
]


@pytest.mark.parametrize(("tz", "expression", "after", "expected"), CASES)
def test_fire_times_across_dst_transitions_are_exact(
    tz: str, expression: str, after: str, expected: list[str]
) -> None:
    fires = parse(expression).next_n(utc(after), len(expected), tz)
    assert fires == [utc(text) for text in expected]


def test_searching_from_inside_the_repeated_hour_does_not_go_back_to_the_first_one() -> None:
    second_0130 = utc("2024-11-03 06:30")  # 01:30 EST, the second 01:30 in New York
    assert parse("cron(45 1 * * ? *)").next_after(second_0130, "America/New_York") == utc(
        "2024-11-04 06:45"
    )


def test_a_date_that_only_exists_in_the_gap_never_fires_that_year() -> None:
    # 2024-03-10 02:30 does not exist in New York; the next 10 March 02:30 is in 2025.
    assert parse("cron(30 2 10 3 ? *)").next_after(utc("2024-01-01 00:00"), "America/New_York") == (
        utc("2025-03-10 06:30")
    )


def test_cron_in_a_zone_without_dst_is_a_fixed_offset() -> None:
    assert parse("cron(0 9 * * ? *)").next_after(utc("2024-06-01 00:00"), "Asia/Kolkata") == utc(
        "2024-06-01 03:30"
    )


def test_rate_days_are_always_24_hours_across_dst() -> None:
    start = utc("2024-03-09 12:00")
    fires = parse("rate(1 day)").next_n(start, 2, "America/New_York", start=start)
    assert fires == [start + 86400, start + 2 * 86400]


def test_at_time_in_the_gap_never_fires_and_in_the_fold_fires_the_first_time() -> None:
    gap = parse("at(2024-03-10T02:30:00)", allow_at=True)
    fold = parse("at(2024-11-03T01:30:00)", allow_at=True)
    assert gap.next_after(0, "America/New_York") is None
    assert fold.next_after(0, "America/New_York") == utc("2024-11-03 05:30")


@pytest.mark.parametrize("after", ["2024-11-03 06:00", "2024-11-03 06:30", "2024-11-03 06:59"])
def test_from_anywhere_in_the_repeated_hour_the_next_fire_is_the_hour_after_it(after: str) -> None:
    assert parse("cron(* * * * ? *)").next_after(utc(after), "America/New_York") == utc(
        "2024-11-03 07:00"
    )
