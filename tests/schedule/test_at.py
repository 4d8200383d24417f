"""at(): one fire, at a local wall time in the schedule's zone."""

from __future__ import annotations

from datetime import UTC, datetime

from cronbridge.schedule import parse

AT = "at(2030-06-01T12:30:00)"


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_at_fires_once_at_its_wall_time_in_utc() -> None:
    schedule = parse(AT, allow_at=True)
    assert schedule.next_n(0.0, 3) == [utc("2030-06-01 12:30")]


def test_at_is_read_in_the_schedules_zone() -> None:
    schedule = parse(AT, allow_at=True)
    assert schedule.next_after(0.0, "Europe/Berlin") == utc("2030-06-01 10:30")


def test_at_in_the_past_never_fires() -> None:
    schedule = parse(AT, allow_at=True)
    assert schedule.next_after(utc("2030-06-01 12:30")) is None


def test_at_ignores_the_start() -> None:
    schedule = parse(AT, allow_at=True)
    assert schedule.next_after(0.0, start=utc("2031-01-01 00:00")) == utc("2030-06-01 12:30")


def test_at_keeps_its_seconds() -> None:
    schedule = parse("at(2030-06-01T12:30:45)", allow_at=True)
    assert schedule.next_after(0.0) == utc("2030-06-01 12:30") + 45
