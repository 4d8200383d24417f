"""Parse + next fire of 10,000 random cron expressions, against cronsim on the same ones (answers compared).

Part of `python -m bench scheduler`. Every expression is one both dialects read alike (lists, ranges, steps, names,
`L`, `LW`, `nL`, `n#k`); each side parses it from text and asks for the first fire after a fixed instant. Ours is
timed cold (its caches emptied first, so every parse is real work, as cronsim's always is; the expressions are
distinct, so the pass never hits its own cache), then as a running server calls it: parsed already, from a later
instant; and the same call again (the last answer per expression and zone is remembered). Answers are compared on the
cold pass. Each figure is the best of five runs."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import partial
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from cronbridge.schedule import clear_cache, parse

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
INSTANT = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC).timestamp()  # a fixed instant
LATER = INSTANT + 400 * 86400.0  # past nearly every first answer: the parse is cached, the answer is not
ZONES = ("UTC", "Asia/Tokyo")  # zones without DST changes, where the two dialects' DST rules cannot differ


@dataclass(frozen=True)
class Pair:
    """One expression in AWS's spelling and in cronsim's 5 fields."""

    aws: str
    five: str


def plain(rng: random.Random, low: int, high: int, names: list[str] | None = None, steps: bool = True) -> list[str]:
    """One field as (AWS text, 5-field text) items: `*`, values, ranges, `a/s`, `a-b/s`, `*/s`, names."""
    if rng.random() < 0.3:
        return ["*", "*"]
    aws, five = [], []
    shift = -1 if names is DAYS else 0  # AWS weekdays are 1-7 (Sunday 1), cronsim's 0-6
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        a, b = sorted((rng.randint(low, high), rng.randint(low, high)))
        kind = rng.choice(("one", "range", "from", "star") if steps else ("one", "range"))
        step = rng.randint(1, high)
        if kind == "one" and names and rng.random() < 0.5:
            aws.append(names[a - 1]), five.append(names[a - 1])
        elif kind == "one":
            aws.append(str(a)), five.append(str(a + shift))
        elif kind == "range" and a < b and steps and rng.random() < 0.5:
            aws.append(f"{a}-{b}/{step}"), five.append(f"{a}-{b}/{step}")
        elif kind == "range":
            aws.append(f"{a}-{b}"), five.append(f"{a + shift}-{b + shift}")
        elif kind == "from":
            aws.append(f"{a}/{step}"), five.append(f"{a}/{step}")
        else:
            aws.append(f"*/{step}"), five.append(f"*/{step}")
    return [",".join(aws), ",".join(five)]


def days(rng: random.Random) -> tuple[str, str, str, str]:
    """(AWS day-of-month, AWS day-of-week, 5-field day-of-month, 5-field day-of-week)."""
    form = rng.choice(("dom", "dom", "dom", "dow", "dow", "L", "LW", "nL", "#"))
    n = rng.randint(1, 7)
    if form == "dom":
        aws, five = plain(rng, 1, 31)
        return aws, "?", five, "*"
    if form == "dow":
        aws, five = plain(rng, 1, 7, DAYS, steps=False)
        return "?", aws, "*", five
    if form in ("L", "LW"):
        return form, "?", form, "*"
    if form == "nL":
        return "?", f"{n}L", "*", f"{n - 1}L"
    k = rng.randint(1, 5)
    return "?", f"{n}#{k}", "*", f"{n - 1}#{k}"


def pair(rng: random.Random) -> Pair:
    minute, hour = plain(rng, 0, 59), plain(rng, 0, 23)
    dom, dow, five_dom, five_dow = days(rng)
    month = plain(rng, 1, 12, MONTHS)
    return Pair(
        f"cron({minute[0]} {hour[0]} {dom} {month[0]} {dow} *)",
        f"{minute[1]} {hour[1]} {five_dom} {month[1]} {five_dow}",
    )


def pairs(count: int, seed: int = 20) -> list[Pair]:
    """`count` distinct expressions cronsim also accepts (it refuses e.g. `30 * 2`: no 30 February)."""
    rng, seen, out = random.Random(seed), set(), []
    start = datetime.fromtimestamp(INSTANT, UTC)
    while len(out) < count:
        candidate = pair(rng)
        if candidate.aws in seen:
            continue
        try:
            CronSim(candidate.five, start)
        except CronSimError:
            continue
        seen.add(candidate.aws)
        out.append(candidate)
    return out


def timed(work: Callable[[], list[float | None]]) -> tuple[float, list[float | None]]:
    """Seconds `work` took, with the garbage collector off (as timeit does; for both sides alike), and its answers."""
    gc.collect()
    gc.disable()
    try:
        begun = time.perf_counter()
        answers = work()
        return time.perf_counter() - begun, answers
    finally:
        gc.enable()


def ours(expressions: list[Pair], tz: str, instant: float = INSTANT) -> list[float | None]:
    return [parse(p.aws).next_after(instant, tz) for p in expressions]


def peer(expressions: list[Pair], where: tzinfo) -> list[float | None]:
    start = datetime.fromtimestamp(INSTANT, where)
    answers: list[float | None] = []
    for p in expressions:
        fire = next(CronSim(p.five, start), None)
        answers.append(None if fire is None else fire.timestamp())
    return answers


def compare(count: int) -> list[list[str]]:
    """Table rows: per zone, cronsim's time, ours cold and warm, the ratios, and how many answers agree."""
    expressions = pairs(count)
    rows = []
    for tz in ZONES:
        where = UTC if tz == "UTC" else ZoneInfo(tz)
        peer(expressions[:200], where), ours(expressions[:200], tz)  # imports, zone caches
        best = [float("inf")] * 4
        for _ in range(5):  # the best of five runs: a shared machine's noise only ever adds time
            peer_time, expected = timed(partial(peer, expressions, where))
            clear_cache()
            cold_time, cold = timed(partial(ours, expressions, tz))
            later_time, _ = timed(partial(ours, expressions, tz, LATER))
            again_time, again = timed(partial(ours, expressions, tz, LATER))
            times = (peer_time, cold_time, later_time, again_time)
            best = [min(b, t) for b, t in zip(best, times, strict=True)]
        agree = sum(a == b for a, b in zip(expected, cold, strict=True))
        peer_best = best[0]
        rows.append(
            [f"{count:,} expressions, {tz}", f"{peer_best * 1e3:.0f}"]
            + [f"{t * 1e3:.0f} ({t / peer_best:.2f}x)" for t in best[1:]]
            + [f"{agree:,}/{count:,}"]
        )
    return rows


HEADERS = [
    "parse + next fire",
    "cronsim (ms)",
    "ours, cold (ms)",
    "ours, parsed, a later instant (ms)",
    "ours, the same call again (ms)",
    "answers agree",
]
