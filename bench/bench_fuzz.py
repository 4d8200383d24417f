"""Fuzz benchmark: 20,000 signed, malformed requests (2,000 with --quick) over every protocol and every implemented
operation, shape-driven from botocore's models and seeded (CRONBRIDGE_FUZZ_SEED, default 1). Goals: no 5xx, no
answer slower than 1 s, the server's memory back within 20% of where it started. The peer is moto's server, sent the
first quarter of the same requests."""

from __future__ import annotations

import functools
import http.client
import json
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.fuzzing import Request, build, encode, operations, plausible
from bench.harness import (
    BENCH_KEY,
    BENCH_SECRET,
    REGION,
    ServerProcess,
    cronbridge_server,
    moto_server,
    percentile,
    render_table,
)
from cronbridge.api import sigv4

THREADS = 2
SLOW = 1.0


@dataclass
class Tally:
    """What one server answered."""

    statuses: Counter[int] = field(default_factory=Counter)
    by_protocol: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: list[dict[str, object]] = field(default_factory=list)  # 5xx, slow answers, dropped connections
    slowest: list[tuple[float, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Request, status: int, seconds: float, answer: bytes) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.by_protocol[request.label.split()[0]] += 1
            self.latencies.append(seconds)
            self.slowest = sorted([*self.slowest, (seconds, request.label, request.mutation)], reverse=True)[:5]
            if status >= 500 or status == 0 or seconds > SLOW:
                self.failures.append({"request": request.label, "mutation": request.mutation, "status": status,
                                      "seconds": round(seconds, 3), "answer": answer[:300].decode("latin-1")})

    def count(self, low: int, high: int) -> int:
        return sum(n for status, n in self.statuses.items() if low <= status < high)


@dataclass(frozen=True)
class Stream:
    """The seeded request stream, built one request at a time (never all held at once): request i is always the
    same request for the same seed, whoever sends it."""

    seed: int
    count: int

    def at(self, i: int, host: str) -> Request:
        ops = operations()
        rng = random.Random(f"{self.seed}:{i}")
        return build(ops[_order(self.seed, len(ops))[i % len(ops)]], rng, host)


@functools.cache
def _order(seed: int, size: int) -> list[int]:
    order = list(range(size))
    random.Random(seed).shuffle(order)
    return order


def warmups(host: str) -> list[Request]:
    """One plausible, unmutated request per operation: every code path loaded before memory is measured."""
    rng = random.Random(0)
    return [encode(op, plausible(op.model.input_shape, rng), rng, host) for op in operations()]


def send(conn: http.client.HTTPConnection, request: Request) -> tuple[int, bytes]:
    """Sign (now) and send one request; (0, reason) when the connection broke."""
    amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {**request.headers, "X-Amz-Date": amz_date}
    headers["Authorization"] = sigv4.sign(request.method, request.path, request.query, headers, request.body,
                                          access_key_id=BENCH_KEY, secret_access_key=BENCH_SECRET, region=REGION,
                                          service=request.signing_name, amz_date=amz_date)
    target = request.path + (f"?{request.query}" if request.query else "")
    try:
        conn.request(request.method, target, body=request.body or None, headers=headers)
        answer = conn.getresponse()
        status, body = answer.status, answer.read()
    except (OSError, http.client.HTTPException) as err:
        conn.close()
        return 0, f"{type(err).__name__}: {err}".encode()
    if body == b"Invalid HTTP request received.":  # uvicorn refused the request itself and drops the connection:
        conn.close()  # a new one for the next request, or its answer would be read as the next one's
    return status, body


def drive(server: ServerProcess, requests: Callable[[int, str], Request], count: int, tally: Tally) -> float:
    """Send requests 0..count-1 over THREADS connections (request i on connection i mod THREADS); the seconds taken."""
    host = f"127.0.0.1:{server.port}"

    def worker(first: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for i in range(first, count, THREADS):
            request = requests(i, host)
            started = time.perf_counter()
            status, answer = send(conn, request)
            tally.add(request, status, time.perf_counter() - started, answer)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def fuzz_cronbridge(work: Path, stream: Stream) -> tuple[Tally, float, tuple[float, float, float]]:
    server = cronbridge_server(work / "cronbridge", launcher="noop").start()
    try:
        warm = warmups("")
        drive(server, lambda i, host: _hosted(warm[i], host), len(warm), Tally())
        time.sleep(1)
        start_rss = server.rss_mib()[0]
        tally = Tally()
        seconds = drive(server, stream.at, stream.count, tally)
        time.sleep(2)  # let the last answers' garbage go
        end_rss, peak = server.rss_mib()
        if tally.failures:
            (work / "failures.jsonl").write_text("\n".join(json.dumps(f) for f in tally.failures))
        return tally, seconds, (start_rss, end_rss, peak)
    finally:
        server.stop()


def _hosted(request: Request, host: str) -> Request:
    request.headers["Host"] = host
    return request


def fuzz_moto(work: Path, stream: Stream, count: int) -> Tally:
    server = moto_server(work / "moto").start()
    try:
        tally = Tally()
        drive(server, stream.at, count, tally)
        return tally
    finally:
        server.stop()


def run(quick: bool = False) -> None:
    stream = Stream(int(os.environ.get("CRONBRIDGE_FUZZ_SEED", "1")), 2_000 if quick else 20_000)
    ops = operations()
    print(f"{stream.count:,} requests over {len(ops)} operations x protocols "
          f"({dict(Counter(o.protocol for o in ops))}), seed {stream.seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as folder:
        work = Path(folder)
        ours, seconds, (start, end, peak) = fuzz_cronbridge(work, stream)
        print(f"  cronbridge: {seconds:.0f} s", flush=True)
        peer = fuzz_moto(work, stream, stream.count // 4)
        _report(ours, peer, seconds, start, end, peak)
        for failure in ours.failures[:15]:
            print("  failure:", json.dumps(failure)[:400])
        print("  slowest:", "; ".join(f"{label} ({mutation}) {seconds * 1000:.0f} ms"
                                      for seconds, label, mutation in ours.slowest))


def _report(ours: Tally, peer: Tally, seconds: float, start: float, end: float, peak: float) -> None:
    rows = []
    for label, tally in (("cronbridge", ours), ("moto (first quarter)", peer)):
        calls = sum(tally.statuses.values())
        slow = sum(1 for s in tally.latencies if s > SLOW)
        rows.append([label, f"{calls:,}", f"{tally.count(200, 300):,}", f"{tally.count(400, 500):,}",
                     f"{tally.count(500, 600):,}", str(tally.statuses.get(0, 0)), str(slow),
                     f"{percentile(tally.latencies, 50) * 1000:.1f}", f"{percentile(tally.latencies, 99) * 1000:.1f}",
                     f"{max(tally.latencies, default=0) * 1000:.0f}",
                     f"{100 * tally.count(500, 600) / calls:.2f}%" if calls else "-"])
    print(render_table(["server", "requests", "2xx", "4xx", "5xx", "dropped", "> 1 s", "p50 ms", "p99 ms",
                        "max ms", "5xx rate"], rows))
    print(f"cronbridge: {sum(ours.statuses.values()) / seconds:,.0f} requests/s; by protocol "
          f"{dict(ours.by_protocol)}; RSS {start:.0f} MiB at start, {end:.0f} MiB after "
          f"({100 * (end - start) / start:+.1f}%), peak {peak:.0f} MiB")
