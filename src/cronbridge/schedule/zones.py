"""Wall time and instants in IANA zones: nonexistent times are None, ambiguous the first."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronbridge.errors import ValidationError

Wall = tuple[int, int, int, int, int]  # year, month, day, hour, minute

_UTC_NAMES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}
)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class ZoneError(ValidationError):
    """A time zone name that is not in the IANA database."""


@lru_cache(maxsize=1024)
def zone(name: str) -> tzinfo:
    """The tzinfo for an IANA name; raises ZoneError for an unknown one."""
    if name in _UTC_NAMES:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ZoneError(f"Invalid time zone: {name}") from exc


def wall_of(instant: float, tz: tzinfo) -> Wall:
    """The local wall time (to the minute, truncated) at `instant`."""
    local = datetime.fromtimestamp(instant, tz)
    return (local.year, local.month, local.day, local.hour, local.minute)


def utc_instant(wall: Wall) -> float:
    """The instant of a wall time read as UTC."""
    y, mo, d, h, mi = wall
    days = date(y, mo, d).toordinal() - _EPOCH_ORDINAL
    return float(days * 86400 + h * 3600 + mi * 60)


def instant_of(wall: Wall, tz: tzinfo) -> float | None:
    """The instant of a local wall time: None in a gap; the first of two in a fold."""
    if tz is UTC:
        return utc_instant(wall)
    y, mo, d, h, mi = wall
    instant = datetime(y, mo, d, h, mi, tzinfo=tz).timestamp()
    back = datetime.fromtimestamp(instant, tz)
    if (back.year, back.month, back.day, back.hour, back.minute) != wall:
        return None
    return instant


def naive_wall(minutes: int) -> Wall:
    """The wall time `minutes` after 1970-01-01 00:00 on a calendar without zones."""
    return wall_of(minutes * 60.0, UTC)


def gap_end(wall: Wall, tz: tzinfo) -> Wall:
    """The first wall minute that exists after the gap holding the nonexistent `wall`."""
    y, mo, d, h, mi = wall
    after = datetime(y, mo, d, h, mi, tzinfo=tz).timestamp()  # lands past the gap
    low = int(utc_instant(wall)) // 60
    high = int(utc_instant(wall_of(after, tz))) // 60
    while high - low > 1:
        middle = (low + high) // 2
        if instant_of(naive_wall(middle), tz) is None:
            low = middle
        else:
            high = middle
    return naive_wall(high)


def wall_under_offset_of(instant: float, wall: Wall, tz: tzinfo) -> Wall:
    """The wall minute `instant` shows under the offset `wall` has (its first one, if repeated)."""
    y, mo, d, h, mi = wall
    offset = datetime(y, mo, d, h, mi, tzinfo=tz).utcoffset()
    seconds = 0.0 if offset is None else offset.total_seconds()
    return naive_wall(int((instant + seconds) // 60))


def first_wall_after(instant: float, wall: Wall, tz: tzinfo) -> Wall:
    """The first wall minute after `wall` whose (first) instant is after `instant`."""
    low = int(utc_instant(wall)) // 60
    high = max(low + 1, int(utc_instant(wall_under_offset_of(instant, wall, tz))) // 60 + 1)
    while high - low > 1:
        middle = (low + high) // 2
        fire = instant_of(naive_wall(middle), tz)
        if fire is not None and fire <= instant:
            low = middle
        else:
            high = middle
    return naive_wall(high)
