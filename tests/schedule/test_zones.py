"""Wall time and instants: gaps are None, folds give the first instant, jumps land right."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cronbridge.schedule.zones import (
    ZoneError,
    first_wall_after,
    gap_end,
    instant_of,
    utc_instant,
    wall_of,
    zone,
)

NEW_YORK = zone("America/New_York")
LORD_HOWE = zone("Australia/Lord_Howe")


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_utc_names_share_the_fast_path() -> None:
    assert zone("UTC") is zone("Etc/UTC") is UTC


def test_unknown_and_malformed_zone_names_are_rejected() -> None:
    for name in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(ZoneError):
            zone(name)


def test_a_wall_time_in_the_spring_gap_has_no_instant() -> None:
    assert instant_of((2024, 3, 10, 2, 30), NEW_YORK) is None


def test_a_repeated_wall_time_gives_its_first_instant() -> None:
    assert instant_of((2024, 11, 3, 1, 30), NEW_YORK) == utc("2024-11-03 05:30")


def test_the_gap_ends_at_the_first_existing_minute() -> None:
    assert gap_end((2024, 3, 10, 2, 17), NEW_YORK) == (2024, 3, 10, 3, 0)
    assert gap_end((2024, 10, 6, 2, 0), LORD_HOWE) == (2024, 10, 6, 2, 30)


def test_from_the_repeated_hour_the_next_fresh_minute_is_after_it() -> None:
    second_0115 = utc("2024-11-03 06:15")
    assert first_wall_after(second_0115, (2024, 11, 3, 1, 15), NEW_YORK) == (2024, 11, 3, 2, 0)


def test_outside_transitions_the_next_fresh_minute_is_the_next_minute() -> None:
    t = utc("2024-06-01 12:00") + 5
    assert first_wall_after(t, wall_of(t, NEW_YORK), NEW_YORK) == (2024, 6, 1, 8, 1)


def test_utc_instants_count_whole_days_from_the_epoch() -> None:
    assert utc_instant((1970, 1, 2, 0, 1)) == 86460.0
