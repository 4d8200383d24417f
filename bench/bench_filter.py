"""Filter-pattern benchmark: FilterLogEvents over 1,000,000 events (100,000 with --quick) with the costliest
patterns allowed, paged as a client pages (nextToken); the peer is Python's backtracking `re` on the same ReDoS."""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ratio, render_table
from cronbridge.clock import FakeClock
from cronbridge.logs.metric_filters import MetricFilters
from cronbridge.logs.service import LogService
from cronbridge.model.logs import Position
from cronbridge.scope import HOME
from cronbridge.store.db import SqliteDatabase
from cronbridge.store.documents import Documents
from cronbridge.store.metrics import MetricStore

GROUP = "/bench/filter"
STREAMS = 10
BATCH = 10_000
NOW_MS = 1_700_000_000_000
REDOS = "%" + "a?" * 30 + "a" * 30 + "%"  # the pattern that stalled the server for 33 s under Python's `re`
PATTERNS = {
    "term (SQL)": "ERROR",
    "term matching nothing (SQL)": "NOSUCHWORD",
    "ReDoS %a?{30}a{30}%": REDOS,
    "costliest regex %a.{136}c%": "%a.{136}c%",  # just under RE2's program cap: NFA, time ~ message x program
    "JSON, 2 regexes": "{ $.user = %^u[0-9]+$% && $.path = %a{100}% }",
    "delimited, 20 fields around ...": "[" + ", ".join(["...", "f = %a.{60}c%"] * 1 + ["...", "g = x*"] * 19) + "]",
}


@dataclass(frozen=True)
class Run:
    """One pattern paged to the end."""

    matches: int
    pages: int
    seconds: float
    slowest_page: float


def _message(rng: random.Random, i: int) -> str:
    kind = i % 4
    if kind == 0:
        return f'{{"user": "u{i}", "path": "/{"a" * rng.randint(20, 140)}", "code": {rng.choice([200, 404, 500])}}}'
    if kind == 1:
        return "a" * rng.randint(29, 60) + (" ERROR" if rng.random() < 0.01 else "")
    if kind == 2:
        return " ".join(rng.choice(["GET", "x1", "[a", '"b', "aaaa", "ERROR"]) for _ in range(rng.randint(5, 25)))
    return "".join(rng.choice("ab c") for _ in range(rng.randint(50, 200)))


def _fill(logs: LogService, total: int) -> None:
    rng = random.Random(7)
    logs.create_group(GROUP)
    for s in range(STREAMS):
        logs.create_stream(GROUP, f"s{s}")
    for start in range(0, total, BATCH):
        events = [(NOW_MS - total + start + k, _message(rng, start + k)) for k in range(BATCH)]
        logs.append(GROUP, f"s{(start // BATCH) % STREAMS}", events)


def _page_through(logs: LogService, pattern: str) -> Run:
    matches = pages = 0
    slowest = 0.0
    after: Position | None = None
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        page = logs.filter_events(GROUP, pattern=pattern, limit=10_000, after=after)
        slowest = max(slowest, time.perf_counter() - t0)
        matches, pages = matches + len(page.events), pages + 1
        if page.next is None:
            return Run(matches, pages, time.perf_counter() - started, slowest)
        after = page.next


def _peer_redos(length: int, timeout: float) -> str:
    """Python's `re` on the ReDoS pattern against one message of `length` a's: seconds, or 'killed after N s'."""
    code = f"import re,time; r=re.compile({REDOS[1:-1]!r}); t=time.perf_counter(); r.search('a'*{length}); " \
           "print(time.perf_counter()-t)"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"killed after {timeout:g} s"
    return f"{float(done.stdout):.2f} s"


def run(quick: bool = False) -> None:
    total = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-filter-") as folder:
        db = SqliteDatabase(Path(folder) / "logs.db")
        logs = LogService(db, FakeClock(NOW_MS / 1000), MetricFilters(Documents(db), MetricStore(db, HOME), HOME))
        t0 = time.perf_counter()
        _fill(logs, total)
        print(f"{total:,} events stored in {time.perf_counter() - t0:.1f} s", flush=True)
        rows, base = [], None
        for label, pattern in PATTERNS.items():
            found = _page_through(logs, pattern)
            base = base or found.seconds
            rows.append([label, f"{found.matches:,}", str(found.pages), f"{found.seconds:.1f}",
                         f"{found.slowest_page * 1000:.0f}", f"{total / found.seconds:,.0f}",
                         ratio(found.seconds, base)])
            print(f"  {label}: {found.seconds:.1f} s", flush=True)
    print(render_table(["pattern", "matches", "pages", "total s", "slowest page ms", "events/s", "vs term"], rows))
    timeout = 5 if quick else 20
    print(f"peer: Python's re, the ReDoS pattern, one message of 24 a's: {_peer_redos(24, timeout)}; "
          f"of 30 a's: {_peer_redos(30, timeout)}")
