"""Next-fire calls per second for a mix of expressions over all zones, vs croniter and cronsim."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo, available_timezones

from croniter import croniter
from cronsim import CronSim

from cronbridge.schedule import parse
from cronbridge.schedule.zones import zone

DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@dataclass(frozen=True)
class Case:
    """One expression, zone and instant; `five` is the 5-field form when the dialects agree."""

    aws: str
    five: str | None
    tz: str
    instant: float


def expression(rng: random.Random) -> tuple[str, str | None]:
    """A random expression from a realistic mix (AWS text, 5-field text or None)."""
    m, h, d, n, w = (
        rng.randrange(60),
        rng.randrange(24),
        rng.randint(1, 28),
        rng.randint(2, 30),
        rng.randint(1, 7),
    )
    kind = rng.randrange(12)
    both = {
        0: (f"*/{n} * * * ? *", f"*/{n} * * * *"),
        1: (f"{m} {h} * * ? *", f"{m} {h} * * *"),
        2: (f"{m} {h} ? * MON-FRI *", f"{m} {h} * * 1-5"),
        3: (f"{m} {h} {d} * ? *", f"{m} {h} {d} * *"),
        4: (f"0/{n} 8-17 ? * MON-FRI *", f"0/{n} 8-17 * * 1-5"),
        5: (f"{m} {h} ? * {w}#{rng.randint(1, 4)} *", None),
        6: (f"{m} {h} ? * {w}L *", None),  # croniter spells it L{w - 1}; left out
        7: (f"{m} {h} L * ? *", f"{m} {h} L * *"),
        8: (f"{m} {h} {d}W * ? *", None),
        9: (f"{m} {h} ? * {DAYS[w - 1]} 2024-2030", None),
        10: (f"{m} {h} 1 1,4,7,10 ? *", f"{m} {h} 1 1,4,7,10 *"),
        11: (f"{m} {h} 29 2 ? *", f"{m} {h} 29 2 *"),
    }[kind]
    aws, five = both
    if kind == 5:
        five = f"{m} {h} * * {w - 1}#{aws.split('#')[1].split()[0]}"
    return f"cron({aws})", five


def cases(count: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    zones = sorted(available_timezones())
    out = []
    for _ in range(count):
        aws, five = expression(rng)
        out.append(Case(aws, five, rng.choice(zones), rng.uniform(1.6e9, 1.9e9)))
    return out


def timed(calls: list[Callable[[], object]]) -> tuple[float, float, float]:
    """(calls per second, p99 seconds, max seconds), each call timed on its own."""
    spans = []
    clock = time.perf_counter
    for call in calls:
        begun = clock()
        call()
        spans.append(clock() - begun)
    total = sum(spans)
    return len(spans) / total, statistics.quantiles(spans, n=100)[98], max(spans)


def ours(subset: list[Case]) -> list[Callable[[], object]]:
    """Each call asks for the fire after the warm-up's answer, as the scheduler does (a parsed expression remembers
    its last answer per zone: asking the warm-up's question again would only measure that memory)."""
    built = [(parse(c.aws), c.instant, c.tz) for c in subset]
    return [partial(s.next_after, s.next_after(t, z) or t, z) for s, t, z in built]


def with_croniter(subset: list[Case]) -> list[Callable[[], object]]:
    built = [croniter(c.five, datetime.fromtimestamp(c.instant, ZoneInfo(c.tz))) for c in subset]
    return [partial(it.get_next, float) for it in built]


def with_cronsim(subset: list[Case]) -> list[Callable[[], object]]:
    built = [
        CronSim(c.five or "", datetime.fromtimestamp(c.instant, ZoneInfo(c.tz))) for c in subset
    ]
    return [partial(next, it, None) for it in built]


def report(name: str, figures: tuple[float, float, float], peer: float | None = None) -> None:
    rate, p99, worst = figures
    ratio = f"  x{rate / peer:.2f} vs faster peer" if peer else ""
    print(
        f"  {name:<28} {rate:>10,.0f} calls/s  p99 {p99 * 1e6:7.1f} us  max {worst * 1e6:7.1f} us"
        f"{ratio}"
    )


HARD = [  # DST gaps and folds, a skipped day, dates that never come, the end of the calendar
    ("cron(* * * * ? *)", "America/New_York", 1710053940.0),  # 06:59Z before spring forward
    ("cron(* * * * ? *)", "America/New_York", 1730617200.0),  # inside the repeated hour
    ("cron(* * 30 12 ? *)", "Pacific/Apia", 1325149200.0),  # 30 Dec 2011 never happened there
    ("cron(*/7 * * * ? *)", "Australia/Lord_Howe", 1728142140.0),  # 30-minute gap
    ("cron(0 0 * * ? *)", "America/Santiago", 1725768000.0),  # midnight does not exist
    ("cron(0 0 30 2 ? *)", "UTC", 0.0),
    ("cron(* * 29 2 ? 1971/2)", "Europe/Berlin", 0.0),
    ("cron(0 0 ? 2 2#5 2101-2199)", "UTC", 0.0),
    ("cron(59 23 31 12 ? 2199)", "Asia/Kathmandu", 0.0),
]


def hard_cases() -> None:
    """The worst single call among known hard cases (each warmed once, then timed)."""
    worst = 0.0
    for text, tz, instant in HARD:
        schedule = parse(text)
        zone(tz)
        schedule.next_after(instant, "Etc/GMT-14" if tz == "UTC" else "UTC")  # warm, but not this zone's memory
        begun = time.perf_counter()
        schedule.next_after(instant, tz)
        worst = max(worst, time.perf_counter() - begun)
    print(f"  hard cases (DST gaps/folds, impossible dates): max {worst * 1e6:.1f} us per call")


def run(quick: bool = False) -> None:
    mix = cases(1_000 if quick else 10_000)
    subset = [c for c in mix if c.five is not None]
    cold_begun = time.perf_counter()
    for c in mix:
        zone(c.tz)
    print(
        f"  {len(mix)} expressions over {len({c.tz for c in mix})} zones; loading zones took "
        f"{time.perf_counter() - cold_begun:.2f} s; {len(subset)} also readable by the peers"
    )
    for c in mix:  # warm-up pass: parse cache and zone caches, as a running server has them
        parse(c.aws).next_after(c.instant, c.tz)
    report("cronbridge, full mix", timed(ours(mix)))
    peers = {"croniter": timed(with_croniter(subset)), "cronsim": timed(with_cronsim(subset))}
    faster = max(rate for rate, _, _ in peers.values())
    for name, figures in peers.items():
        report(f"{name}, subset", figures)
    report("cronbridge, subset", timed(ours(subset)), faster)
    hard_cases()


if __name__ == "__main__":
    run()
