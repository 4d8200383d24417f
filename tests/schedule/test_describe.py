"""Plain-English descriptions, as the CLI and console show them."""

from __future__ import annotations

import pytest

from cronbridge.schedule import describe, parse

TABLE = [
    ("cron(*/30 * * * ? *)", "every 30 minutes"),
    ("cron(15 10 ? * 6L 2019-2022)", "at 10:15 on the last Friday of every month, 2019–2022"),
    ("cron(0 10 * * ? *)", "at 10:00 every day"),
    ("cron(0 18 ? * MON-FRI *)", "at 18:00 on Monday through Friday"),
    ("cron(0 8 1 * ? *)", "at 08:00 on day 1 of every month"),
    ("cron(0/15 * * * ? *)", "every 15 minutes"),
    ("cron(1/10 * * * ? *)", "every 10 minutes from 1"),
    (
        "cron(0/5 8-17 ? * MON-FRI *)",
        "every 5 minutes, hours 8 through 17 on Monday through Friday",
    ),
    ("cron(0 9 ? * 2#1 *)", "at 09:00 on the first Monday of every month"),
    ("cron(0 10,15 * * ? *)", "at 10:00 and 15:00 every day"),
    ("cron(0 12 L * ? *)", "at 12:00 on the last day of every month"),
    ("cron(0 12 LW * ? *)", "at 12:00 on the last weekday of every month"),
    ("cron(0 0 15W 3,6 ? *)", "at 00:00 on the weekday nearest day 15 of March and June"),
    ("cron(0 0 1 1 ? 2030)", "at 00:00 on day 1 of January, in 2030"),
    ("cron(5 * * * ? *)", "at minute 5 of every hour"),
    ("cron(* * * * ? *)", "every minute"),
    ("cron(0 0 * JUL ? *)", "at 00:00 every day in July"),
    ("rate(1 minute)", "every minute"),
    ("cron(*/1 * * * ? *)", "every minute"),
    ("cron(0/1 * * * ? *)", "every minute"),
    ("cron(3/1 * * * ? *)", "every minute from 3"),
    ("cron(5 */1 * * ? *)", "at minute 5 of every hour"),
    ("cron(0 12 */1 * ? *)", "at 12:00 every day"),
    ("rate(5 minutes)", "every 5 minutes"),
    ("rate(1 day)", "every day"),
    ("rate(2 hours)", "every 2 hours"),
    ("at(2030-06-01T12:30:00)", "once, at 2030-06-01 12:30:00"),
]


@pytest.mark.parametrize(("expression", "words"), TABLE)
def test_descriptions_read_as_plain_english(expression: str, words: str) -> None:
    assert describe(expression) == words


def test_schedule_describe_matches_the_module_function() -> None:
    assert parse("cron(0 10 * * ? *)").describe() == describe("cron(0 10 * * ? *)")
