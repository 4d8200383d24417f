"""Properties: fire times are after t, match, skip nothing (brute force), agree with cronsim."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from cronsim import CronSim
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cronbridge.schedule import Schedule, ScheduleError, parse
from cronbridge.schedule.cron import parse_cron

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Tehran",
]
ALL_ZONES = sorted(available_timezones())
MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
T_2000, T_2100 = 946_684_800, 4_102_444_800

DayTest = Callable[[int, int, int], bool]


@dataclass(frozen=True)
class Oracle:
    """An expression with the sets it should mean, computed independently of the parser."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    day: DayTest
    months: frozenset[int]

    def matches(self, wall: datetime) -> bool:
        return (
            wall.minute in self.minutes
            and wall.hour in self.hours
            and wall.month in self.months
            and self.day(wall.year, wall.month, wall.day)
        )


# ---- field strategies: (text, values) -------------------------------------------------------


def spelled(value: int, names: list[str] | None, draw: st.DrawFn) -> str:
    if names and draw(st.booleans()):
        word = names[value - 1]
        return draw(st.sampled_from([word, word.lower(), word.title()]))
    return str(value)


@st.composite
def item(
    draw: st.DrawFn, low: int, high: int, names: list[str] | None, steps: bool, wrap: bool
) -> tuple[str, set[int]]:
    a = draw(st.integers(low, high))
    b = draw(st.integers(low, high))
    step = draw(st.integers(1, high)) if steps else 1
    if not wrap and b < a:
        a, b = b, a
    span = list(range(a, b + 1)) if a <= b else list(range(a, high + 1)) + list(range(low, b + 1))
    kind = draw(st.sampled_from(["one", "range", "from", "star"] if steps else ["one", "range"]))
    sa, sb = spelled(a, names, draw), spelled(b, names, draw)
    if kind == "one":
        return sa, {a}
    if kind == "from":
        return f"{sa}/{step}", set(range(a, high + 1, step))
    if kind == "star":
        return f"*/{step}", set(range(low, high + 1, step))
    # cronsim (the reference, used when wrap=False) reads `a-a/s` as `*`: keep clear of it there.
    use_step = steps and draw(st.booleans()) and (wrap or a != b)
    text = f"{sa}-{sb}/{step}" if use_step else f"{sa}-{sb}"
    return text, set(span[:: step if use_step else 1])


@st.composite
def plain_field(
    draw: st.DrawFn,
    low: int,
    high: int,
    names: list[str] | None = None,
    steps: bool = True,
    wrap: bool = True,
) -> tuple[str, frozenset[int]]:
    if draw(st.integers(0, 4)) == 0:
        return "*", frozenset(range(low, high + 1))
    items = draw(st.lists(item(low, high, names, steps, wrap), min_size=1, max_size=3))
    return ",".join(t for t, _ in items), frozenset().union(*(v for _, v in items))


# ---- the day rules, by brute force over the calendar ----------------------------------------


def aws_weekday(y: int, m: int, d: int) -> int:
    return datetime(y, m, d).isoweekday() % 7 + 1


def length(y: int, m: int) -> int:
    return calendar.monthrange(y, m)[1]


def is_weekday(y: int, m: int, d: int) -> bool:
    return aws_weekday(y, m, d) not in (1, 7)


def nearest_weekday(y: int, m: int, n: int) -> int:
    days = [d for d in range(1, length(y, m) + 1) if is_weekday(y, m, d)]
    return min(days, key=lambda d: abs(d - n))


@st.composite
def day_fields(draw: st.DrawFn, reference: bool = False) -> tuple[str, str, DayTest]:
    """(day-of-month, day-of-week, test); reference=True keeps to what cronsim also reads."""
    forms = ["dom", "dow", "L", "LW", "nL", "#"] + ([] if reference else ["W", "Ldow"])
    form = draw(st.sampled_from(forms))
    n = draw(st.integers(1, 7))
    if form == "dom":
        text, days = draw(plain_field(1, 31, wrap=not reference))
        return text, "?", lambda y, m, d: d in days
    if form == "dow":
        text, weekdays = draw(plain_field(1, 7, DAY_NAMES, steps=False, wrap=not reference))
        return "?", text, lambda y, m, d: aws_weekday(y, m, d) in weekdays
    if form == "L":
        return "L", "?", lambda y, m, d: d == length(y, m)
    if form == "LW":
        return (
            "LW",
            "?",
            lambda y, m, d: d == max(x for x in range(1, length(y, m) + 1) if is_weekday(y, m, x)),
        )
    if form == "W":
        t = draw(st.integers(1, 31))
        return f"{t}W", "?", lambda y, m, d: t <= length(y, m) and d == nearest_weekday(y, m, t)
    if form == "Ldow":
        return "?", "L", lambda y, m, d: aws_weekday(y, m, d) == 7
    if form == "nL":
        return "?", f"{n}L", lambda y, m, d: aws_weekday(y, m, d) == n and d + 7 > length(y, m)
    k = draw(st.integers(1, 5))
    return "?", f"{n}#{k}", lambda y, m, d: aws_weekday(y, m, d) == n and (d - 1) // 7 == k - 1


@st.composite
def oracles(draw: st.DrawFn, reference: bool = False) -> Oracle:
    wrap = not reference
    minute, minutes = draw(plain_field(0, 59, wrap=wrap))
    hour, hours = draw(plain_field(0, 23, wrap=wrap))
    dom, dow, day = draw(day_fields(reference))
    month, months = draw(plain_field(1, 12, MONTH_NAMES, wrap=wrap))
    text = f"cron({minute} {hour} {dom} {month} {dow} *)"
    return Oracle(text, minutes, hours, day, months)


# ---- brute force ----------------------------------------------------------------------------


def first_fire_by_brute_force(
    oracle: Oracle, zone: ZoneInfo, after: float, until: float
) -> float | None:
    """The first UTC minute in (after, until] whose wall time matches (first occurrences only)."""
    u = (int(after) // 60 + 1) * 60
    while u <= until:
        wall = datetime.fromtimestamp(u, zone)
        if oracle.matches(wall):
            first = wall.replace(tzinfo=None).replace(tzinfo=zone, fold=0).timestamp()
            if first == u:
                return float(u)
        u += 60
    return None


WINDOW = 36 * 3600


def transitions(tz: str, first_year: int = 2023, last_year: int = 2026) -> list[int]:
    """The instants (to the minute) at which a zone's UTC offset changed, found by bisection."""
    zone = ZoneInfo(tz)
    found = []
    t = int(datetime(first_year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(last_year, 1, 1, tzinfo=UTC).timestamp())
    while t < end:
        if zone.utcoffset(datetime.fromtimestamp(t, UTC)) != zone.utcoffset(
            datetime.fromtimestamp(t + 86400, UTC)
        ):
            low, high = t, t + 86400
            while high - low > 60:
                middle = (low + high) // 2
                same = zone.utcoffset(datetime.fromtimestamp(middle, UTC)) == zone.utcoffset(
                    datetime.fromtimestamp(low, UTC)
                )
                low, high = (middle, high) if same else (low, middle)
            found.append(high)
        t += 86400
    return found


NEAR_CHANGES = [(tz, at) for tz in ZONES for at in transitions(tz)]

instants = st.integers(T_2000, T_2100).map(float) | st.floats(T_2000, T_2100)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(oracle=oracles(), tz=st.sampled_from(ZONES), t=instants)
def test_next_fire_is_after_t_matches_and_skips_nothing(oracle: Oracle, tz: str, t: float) -> None:
    zone = ZoneInfo(tz)
    fire = parse(oracle.text).next_after(t, tz)
    early = first_fire_by_brute_force(oracle, zone, t, t + WINDOW)
    if early is not None:
        assert fire == early
        return
    assert fire is None or fire > t + WINDOW
    if fire is not None:
        assert oracle.matches(datetime.fromtimestamp(fire, zone))
        assert first_fire_by_brute_force(oracle, zone, fire - WINDOW, fire) == fire


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    oracle=oracles(),
    change=st.sampled_from(NEAR_CHANGES),
    offset=st.integers(-3 * 3600, 3 * 3600) | st.floats(-3 * 3600, 3 * 3600),
)
def test_around_dst_changes_the_next_fire_skips_nothing(
    oracle: Oracle, change: tuple[str, int], offset: float
) -> None:
    tz, at = change
    t = at + offset
    zone = ZoneInfo(tz)
    fire = parse(oracle.text).next_after(t, tz)
    early = first_fire_by_brute_force(oracle, zone, t, t + 6 * 3600)
    if early is not None:
        assert fire == early
    else:
        assert fire is None or fire > t + 6 * 3600


@settings(max_examples=200, deadline=None)
@given(oracle=oracles(), tz=st.sampled_from(ALL_ZONES), t=instants)
def test_in_every_zone_the_next_fire_is_later_and_matches(
    oracle: Oracle, tz: str, t: float
) -> None:
    schedule = parse(oracle.text)
    fires = schedule.next_n(t, 3, tz)
    assert all(later > earlier for earlier, later in zip([t, *fires], fires, strict=False))
    zone = ZoneInfo(tz)
    for fire in fires:
        assert oracle.matches(datetime.fromtimestamp(fire, zone))


def to_cronsim(oracle: Oracle) -> str:
    """Translate to 5-field cron: drop `( )`, the year and `?`; weekdays 1-7 become 0-6."""
    minute, hour, dom, month, dow, _ = oracle.text[5:-1].split(" ")
    if dow != "?":
        dom, dow = "*", shift_weekdays(dow)
    else:
        dow = "*"
    return f"{minute} {hour} {dom} {month} {dow}"


def shift_weekdays(text: str) -> str:
    out = []
    for ch_group in text.replace("-", " - ").replace(",", " , ").replace("#", " # ").split(" "):
        if ch_group.endswith("L") and ch_group[:-1].isdigit():
            out.append(f"{int(ch_group[:-1]) - 1}L")
        elif ch_group.isdigit() and (not out or out[-1] != "#"):
            out.append(str(int(ch_group) - 1))
        else:
            out.append(ch_group)
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(
    oracle=oracles(reference=True),
    t=st.integers(T_2000, T_2100),
    tz=st.sampled_from(["UTC", "Asia/Tokyo"]),
)
def test_agrees_with_cronsim_where_the_dialects_coincide(oracle: Oracle, t: int, tz: str) -> None:
    zone = ZoneInfo(tz)
    start = datetime.fromtimestamp(t, zone)
    reference = CronSim(to_cronsim(oracle), start)
    expected = [next(reference, None) for _ in range(3)]
    assume(all(e is not None for e in expected))
    ours = parse(oracle.text).next_n(float(t), 3, tz)
    assert ours == [e.timestamp() for e in expected if e is not None]


# ---- fuzz: anything in, a schedule or the validation error out, quickly ---------------------

CRONISH = "0123456789*?/-,#LW ()" + "cronatemiuhdys" + "JANFEBMONSUNFRI" + "\u00b9\u0661\t"


@settings(max_examples=400, deadline=None)
@given(
    body=st.text(alphabet=CRONISH, max_size=40) | st.text(max_size=20),
    wrapper=st.sampled_from(["cron({})", "rate({})", "at({})", "{}", "cron({} * * * ? *)"]),
    tz=st.sampled_from(ZONES),
    t=instants,
)
def test_any_string_yields_a_schedule_or_the_validation_error_quickly(
    body: str, wrapper: str, tz: str, t: float
) -> None:
    try:
        schedule = parse(wrapper.format(body), allow_at=True)
    except ScheduleError:
        return
    assert isinstance(schedule, Schedule)
    begun = time.perf_counter()
    fire = schedule.next_after(t, tz)
    assert time.perf_counter() - begun < 1.0  # bounded, not a speed test (bench/ measures speed)
    assert fire is None or fire > t


@settings(max_examples=200, deadline=None)
@given(oracle=oracles(), t=instants)
def test_generated_expressions_round_trip_through_next_n(oracle: Oracle, t: float) -> None:
    schedule = parse(oracle.text)
    fires = schedule.next_n(t, 4)
    for earlier, later in zip(fires, fires[1:], strict=False):
        assert schedule.next_after(earlier) == later
        assert later - earlier >= 60
    assert timedelta(seconds=0) <= timedelta(seconds=(fires[0] - t) if fires else 0)


@settings(max_examples=150, deadline=None)
@given(
    oracle=oracles(),
    tz=st.sampled_from(ZONES),
    queries=st.lists(instants | st.sampled_from([float(T_2000), float(T_2000 + 60)]), min_size=2, max_size=8),
)
def test_remembered_answers_equal_fresh_ones_in_any_order(oracle: Oracle, tz: str, queries: list[float]) -> None:
    """A parsed expression remembers its last answer per zone; no order of questions can make it stale."""
    remembered = parse(oracle.text)
    for t in queries + sorted(queries) + [q + 30.0 for q in queries]:
        fresh = parse_cron(oracle.text, oracle.text[5:-1])  # a new schedule: nothing remembered
        assert remembered.next_after(t, tz) == fresh.next_after(t, tz)
