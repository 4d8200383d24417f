"""Cron fire times in UTC: documented examples, L, W, #, wrapping ranges, dates that never come."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from cronbridge.schedule import parse


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def fires(expression: str, after: str, n: int) -> list[str]:
    instants = parse(expression).next_n(utc(after), n)
    return [datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M") for t in instants]


TABLE = [
    ("cron(0 10 * * ? *)", "2024-01-01 10:00", ["2024-01-02 10:00", "2024-01-03 10:00"]),
    ("cron(15 12 * * ? *)", "2024-01-01 00:00", ["2024-01-01 12:15", "2024-01-02 12:15"]),
    ("cron(0 18 ? * MON-FRI *)", "2024-01-05 18:00", ["2024-01-08 18:00", "2024-01-09 18:00"]),
    ("cron(0 8 1 * ? *)", "2024-01-15 00:00", ["2024-02-01 08:00", "2024-03-01 08:00"]),
    ("cron(0/15 * * * ? *)", "2024-01-01 00:07", ["2024-01-01 00:15", "2024-01-01 00:30"]),
    ("cron(1/10 * * * ? *)", "2024-01-01 00:00", ["2024-01-01 00:01", "2024-01-01 00:11"]),
    ("cron(0/5 8-17 ? * MON-FRI *)", "2024-01-05 17:55", ["2024-01-08 08:00", "2024-01-08 08:05"]),
    ("cron(0 9 ? * 2#1 *)", "2024-01-01 09:00", ["2024-02-05 09:00", "2024-03-04 09:00"]),
    ("cron(15 10 ? * 6L 2019-2022)", "2022-11-01 00:00", ["2022-11-25 10:15", "2022-12-30 10:15"]),
    ("cron(15 10 ? * 6L 2019-2022)", "2022-12-30 10:15", []),
    ("cron(*/30 * * * ? *)", "2024-01-01 00:00", ["2024-01-01 00:30", "2024-01-01 01:00"]),
    ("cron(0 0 L * ? *)", "2024-01-31 00:00", ["2024-02-29 00:00", "2024-03-31 00:00"]),
    ("cron(0 0 L 2 ? *)", "2023-01-01 00:00", ["2023-02-28 00:00", "2024-02-29 00:00"]),
    ("cron(0 0 LW * ? *)", "2024-03-01 00:00", ["2024-03-29 00:00", "2024-04-30 00:00"]),
    ("cron(0 0 1W * ? *)", "2024-06-01 00:00", ["2024-06-03 00:00", "2024-07-01 00:00"]),
    ("cron(0 0 30W * ? *)", "2024-06-01 00:00", ["2024-06-28 00:00", "2024-07-30 00:00"]),
    ("cron(0 0 31W * ? *)", "2024-04-01 00:00", ["2024-05-31 00:00", "2024-07-31 00:00"]),
    ("cron(0 0 31W * ? *)", "2024-03-01 00:00", ["2024-03-29 00:00", "2024-05-31 00:00"]),
    ("cron(0 0 15W * ? *)", "2024-09-01 00:00", ["2024-09-16 00:00", "2024-10-15 00:00"]),
    ("cron(0 0 ? * L *)", "2024-01-01 00:00", ["2024-01-06 00:00", "2024-01-13 00:00"]),
    ("cron(0 0 ? * 1L *)", "2024-01-01 00:00", ["2024-01-28 00:00", "2024-02-25 00:00"]),
    ("cron(0 0 ? * FRI#5 *)", "2024-01-01 00:00", ["2024-03-29 00:00", "2024-05-31 00:00"]),
    ("cron(0 0 ? * FRI-MON *)", "2024-01-01 00:00", ["2024-01-05 00:00", "2024-01-06 00:00"]),
    ("cron(0 22-1 * * ? *)", "2024-01-01 12:00", ["2024-01-01 22:00", "2024-01-01 23:00"]),
    ("cron(0 0 1 NOV-FEB ? *)", "2024-02-15 00:00", ["2024-11-01 00:00", "2024-12-01 00:00"]),
    ("cron(0 0 29 2 ? *)", "2024-03-01 00:00", ["2028-02-29 00:00", "2032-02-29 00:00"]),
    ("cron(59 23 31 12 ? 2199)", "2199-12-31 23:58", ["2199-12-31 23:59"]),
    ("cron(* * * * ? *)", "2199-12-31 23:59", []),
    ("cron(0 0 1 1 ? 2000)", "2024-01-01 00:00", []),
    ("cron(0 0 30 2 ? *)", "2024-01-01 00:00", []),
    ("cron(0 0 31 4,6,9,11 ? *)", "2024-01-01 00:00", []),
    ("cron(0 0 29 2 ? 2100-2103)", "1970-01-01 00:00", []),
]


@pytest.mark.parametrize(("expression", "after", "expected"), TABLE)
def test_next_fire_times_in_utc(expression: str, after: str, expected: list[str]) -> None:
    assert fires(expression, after, len(expected) or 1) == expected


def test_next_after_is_strictly_after_even_on_a_fire_time() -> None:
    assert parse("cron(0 * * * ? *)").next_after(utc("2024-01-01 10:00")) == utc("2024-01-01 11:00")


def test_next_after_rounds_up_from_inside_a_minute() -> None:
    assert parse("cron(* * * * ? *)").next_after(utc("2024-01-01 10:00") + 0.5) == utc(
        "2024-01-01 10:01"
    )


def test_a_start_in_the_future_moves_the_first_fire_to_it() -> None:
    schedule = parse("cron(0 * * * ? *)")
    assert schedule.next_after(utc("2024-01-01 00:00"), start=utc("2024-01-01 05:00")) == utc(
        "2024-01-01 05:00"
    )


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 0 30 2 ? *)",
        "cron(0 0 31 2,4 ? *)",
        "cron(* * 29 2 ? 1971/2)",
        "cron(0 0 ? 2 2#5 2101-2199)",
        "cron(0 0 30W 2 ? *)",
    ],
)
def test_expressions_naming_no_real_date_answer_none_quickly(expression: str) -> None:
    begun = time.perf_counter()
    result = parse(expression).next_after(0.0, "Europe/Berlin")
    assert time.perf_counter() - begun < 1.0  # bounded, not a speed test (bench/ measures speed)
    if expression != "cron(0 0 ? 2 2#5 2101-2199)":
        assert result is None


def test_unknown_time_zones_are_rejected() -> None:
    from cronbridge.schedule import ZoneError

    with pytest.raises(ZoneError):
        parse("cron(0 0 * * ? *)").next_after(0.0, "Mars/Olympus")


@pytest.mark.parametrize("instant", [1e18, float("inf"), float("nan"), -1e18, float("-inf")])
def test_instants_far_outside_the_calendar_do_not_crash(instant: float) -> None:
    fire = parse("cron(0 0 1 1 ? *)").next_after(instant, "Europe/Berlin")
    assert fire is None or fire == utc("1970-01-01 00:00") - 3600
