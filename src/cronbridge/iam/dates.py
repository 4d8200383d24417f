"""The date values IAM's parser accepts in Date* conditions: ISO 8601 date-times and epoch seconds."""

from __future__ import annotations

import re

MAX_EPOCH = 2**63 - 1
YEARS = (-292275054, 292278993)  # the range of IAM's date parser
_ISO = re.compile(
    r"(?P<year>[+-]?\d{1,9})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?"
    r"(?:T(?:(?P<hour>\d{1,2})(?::(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(?:\.(?P<fraction>\d{1,9}))?)?)?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?)?",
    re.IGNORECASE,
)
_ZONE = re.compile(r"[+-](?P<hours>\d{2}):?(?P<minutes>\d{2})?")
_RANGES = {"month": (1, 12), "day": (1, 31), "hour": (0, 23), "minute": (0, 59), "second": (0, 59)}


def is_policy_date(value: object) -> bool:
    """Whether a Date* condition value parses: epoch seconds (0 to 2^63-1) or an ISO 8601 date-time."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    if isinstance(value, int | float):
        return isinstance(value, int) and 0 <= value <= MAX_EPOCH
    if "t" in value.lower() or "-" in value:
        return _iso_ok(value)
    return value.isdigit() and int(value) <= MAX_EPOCH


def _iso_ok(text: str) -> bool:
    found = _ISO.fullmatch(text)
    if found is None or not YEARS[0] <= int(found["year"]) <= YEARS[1]:
        return False
    for part, (low, high) in _RANGES.items():
        if found[part] is not None and not low <= int(found[part]) <= high:
            return False
    return _zone_ok(found["zone"])


def _zone_ok(zone: str | None) -> bool:
    if zone is None or zone.upper() == "Z":
        return True
    parts = _ZONE.fullmatch(zone)
    return parts is not None and int(parts["hours"]) <= 23 and int(parts["minutes"] or 0) <= 59
