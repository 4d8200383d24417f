"""PostgreSQL benchmarks, each against its peer in the same run.

1. The scheduler on PostgreSQL against the scheduler on SQLite (bench_scheduler's workload: N idle rules, 100,000;
   1,000,000 with --full; 1,000 due in the same second; 5,000 due together): load and planning time, memory per idle
   rule, fire lateness. PostgreSQL is a cluster of the bench's own (Debian's server, fsync on: every commit durable).
2. API throughput of two servers on one PostgreSQL against one server on it, the client load split between them:
   pre-signed requests replayed over kept-alive connections (a client too cheap to be the bottleneck), a mix of
   reads (DescribeTasks, ListRules) and writes (PutLogEvents)."""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import bench_scheduler
from bench.harness import ServerProcess, cronbridge_server, percentile, ratio, render_table

SECONDS = 10.0  # each throughput cell
CLIENT_THREADS = 16  # split between the servers


def _cluster() -> Any:
    """The tests' PostgreSQL builder (tests/fixtures/postgres.py), durable commits."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from fixtures.postgres import Cluster

    return Cluster(fsync=True)


# 1. the scheduler -------------------------------------------------------------------
def scheduler(cluster: Any, sizes: bench_scheduler.Sizes) -> None:
    print(f"scheduler: {sizes.idle:,} idle rules; {sizes.burst:,} due in the same second; {sizes.sustained:,} due"
          " together; noop launcher", flush=True)
    ours = bench_scheduler.child("ours", sizes, database=cluster.create_database())
    peer = bench_scheduler.child("ours", sizes)
    rows = []
    for label, value in (
        ("store the rules (s)", lambda r: r["stored"]),
        ("plan the heap (s)", lambda r: r["loaded"] - r["stored"]),
        ("load in all (s)", lambda r: r["loaded"]),
        ("memory per idle rule (bytes)", lambda r: r["memory"]),
    ):
        a, b = value(ours), value(peer)
        rows.append([label, f"{a:.2f}" if a < 1000 else f"{a:.0f}", f"{b:.2f}" if b < 1000 else f"{b:.0f}",
                     ratio(a, b)])
    for label, key in (("fire lateness (slot claimed)", "claimed"), ("launch lateness (RunTask begun)", "lateness"),
                       ("task recorded (RunTask done)", "recorded")):
        for q in (50, 99, 100):
            a, b = percentile(ours[key], q) * 1000, percentile(peer[key], q) * 1000
            rows.append([f"{label} p{q if q < 100 else 'max'} (ms)", f"{a:.1f}", f"{b:.1f}", ratio(a, b)])
    rows.append(["invocations/s (sustained)", f"{ours['rate']:.0f}", f"{peer['rate']:.0f}",
                 ratio(ours["rate"], peer["rate"])])
    print(render_table(["", "PostgreSQL", "SQLite", "ratio"], rows))
    print(f"all succeeded: PostgreSQL {ours['succeeded']}, SQLite {peer['succeeded']}", flush=True)


# 2. API throughput ------------------------------------------------------------------
class Signed:
    """One request signed once and replayed: the server checks the signature and the clock skew, not freshness."""

    def __init__(self, endpoint: str, service: str, target: str, body: dict[str, Any], content_type: str) -> None:
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        from bench.harness import BENCH_KEY, BENCH_SECRET

        credentials = boto3.Session(aws_access_key_id=BENCH_KEY, aws_secret_access_key=BENCH_SECRET).get_credentials()
        self.body = json.dumps(body).encode()
        request = AWSRequest("POST", endpoint + "/", data=self.body,
                             headers={"Content-Type": content_type, "X-Amz-Target": target})
        SigV4Auth(credentials, service, "us-east-1").add_auth(request)
        self.headers = dict(request.headers.items())


def _calls(endpoint: str, seq: int) -> list[Signed]:
    """The mix one client thread cycles through: two reads, one write (its own log stream)."""
    ecs, events, logs = "application/x-amz-json-1.1", "application/x-amz-json-1.1", "application/x-amz-json-1.1"
    return [
        Signed(endpoint, "ecs", "AmazonEC2ContainerServiceV20141113.DescribeClusters", {"clusters": ["bench"]}, ecs),
        Signed(endpoint, "events", "AWSEvents.ListRules", {"Limit": 20}, events),
        Signed(endpoint, "logs", "Logs_20140328.PutLogEvents",
               {"logGroupName": "/bench", "logStreamName": f"s{seq}",
                "logEvents": [{"timestamp": int(time.time() * 1000), "message": "x" * 100}]}, logs),
    ]


def _prepare(server: ServerProcess, streams: int) -> None:
    ecs, events, logs = server.client("ecs"), server.client("events"), server.client("logs")
    ecs.create_cluster(clusterName="bench")
    for i in range(20):
        events.put_rule(Name=f"r{i}", ScheduleExpression="rate(1 day)", State="DISABLED")
    logs.create_log_group(logGroupName="/bench")
    for i in range(streams):
        logs.create_log_stream(logGroupName="/bench", logStreamName=f"s{i}")


def _worker(port: int, calls: list[Signed], stop: threading.Event, counts: list[int], errors: list[str],
            latencies: list[float]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = 0
    while not stop.is_set():
        call = calls[i % len(calls)]
        i += 1
        began = time.perf_counter()
        conn.request("POST", "/", body=call.body, headers=call.headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - began)
        if response.status != 200 and len(errors) < 5:
            errors.append(f"{response.status} {payload[:200]!r}")
        counts[0] += 1
    conn.close()


def throughput(servers: list[ServerProcess], seconds: float) -> tuple[float, float, list[str]]:
    """Requests per second (and p99 ms) of CLIENT_THREADS threads spread over the servers."""
    stop = threading.Event()
    counts = [[0] for _ in range(CLIENT_THREADS)]
    latencies: list[list[float]] = [[] for _ in range(CLIENT_THREADS)]
    errors: list[str] = []
    threads = []
    for t in range(CLIENT_THREADS):
        server = servers[t % len(servers)]
        calls = _calls(server.endpoint, t)
        threads.append(threading.Thread(target=_worker, args=(server.port, calls, stop, counts[t], errors,
                                                              latencies[t])))
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # warm: connections, caches, prepared statements
    before = sum(c[0] for c in counts)
    for found in latencies:
        found.clear()
    time.sleep(seconds)
    done = sum(c[0] for c in counts) - before
    stop.set()
    for thread in threads:
        thread.join(30)
    every = [x for found in latencies for x in found]
    return done / seconds, percentile(every, 99) * 1000, errors


def api(cluster: Any, seconds: float) -> None:
    url = cluster.create_database()
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        servers = [cronbridge_server(Path(tmp) / f"s{i}", launcher="noop", env={"CRONBRIDGE_DATABASE": url})
                   for i in range(2)]
        try:
            for server in servers:
                server.start()
            _prepare(servers[0], CLIENT_THREADS)
            one, one_p99, one_errors = throughput(servers[:1], seconds)
            two, two_p99, two_errors = throughput(servers, seconds)
        finally:
            for server in servers:
                server.stop()
    print(f"API throughput: {CLIENT_THREADS} client threads replaying signed requests (DescribeClusters, ListRules,"
          f" PutLogEvents), {seconds:.0f} s per cell, one PostgreSQL")
    rows = [["requests/s", f"{two:.0f}", f"{one:.0f}", ratio(two, one)],
            ["latency p99 (ms)", f"{two_p99:.1f}", f"{one_p99:.1f}", ratio(two_p99, one_p99)]]
    print(render_table(["", "2 servers", "1 server", "ratio"], rows))
    for label, errors in (("1 server", one_errors), ("2 servers", two_errors)):
        if errors:
            print(f"{label}: errors, e.g. {errors[0]}")


def run(quick: bool = False, full: bool = False) -> None:
    sizes = bench_scheduler.QUICK if quick else bench_scheduler.FULL if full else bench_scheduler.DEFAULT
    cluster = _cluster()
    try:
        scheduler(cluster, sizes)
        api(cluster, 3.0 if quick else SECONDS)
    finally:
        cluster.remove()


if __name__ == "__main__":
    run(quick="--quick" in sys.argv, full="--full" in sys.argv)
