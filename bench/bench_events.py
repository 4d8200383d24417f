"""PutEvents benchmark: throughput and PutEvents -> SQS latency with 1,000 and 10,000 rules on the bus, against moto."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    Result,
    ServerProcess,
    WorkerFactory,
    cronbridge_server,
    measure,
    moto_server,
    percentile,
    ratio,
    render_table,
)

ENTRIES = 10  # PutEvents' most entries per call
POLL = 0.01  # seconds between two receives that found nothing
RECEIVERS = 4  # threads draining the queue
DRAIN = 30.0  # seconds a cell waits, after its PutEvents, for every event to arrive
THREADS = (1, 4)


@dataclass(frozen=True)
class Sizes:
    rules: tuple[int, ...]
    duration: float


FULL = Sizes(rules=(1_000, 10_000), duration=5.0)
QUICK = Sizes(rules=(100, 1_000), duration=1.0)


def queue_policy(queue_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": queue_arn}],
    })


def pattern(i: int) -> dict[str, Any]:
    """Most rules want a source of their own; some filter on content the bench's events never carry."""
    if i % 10 == 9:
        return {"source": [{"prefix": f"other.{i}"}], "detail": {"n": [{"numeric": [">", 1_000_000]}]}}
    if i % 10 == 8:
        return {"detail": {"kind": [{"anything-but": ["tick", "tock"]}], "shard": [i]}}
    return {"source": [f"bench.app.{i}"], "detail-type": ["tick"]}


def seed(server: ServerProcess, rules: int, start: int) -> str:
    """Rules start..rules-1 on the default bus (added to those already there), plus the one the bench's events
    match, whose target is the queue; returns the queue's URL."""
    events, sqs = server.client("events"), server.client("sqs")
    url = sqs.create_queue(QueueName="bench-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": queue_policy(arn)})
    for i in range(start, rules):
        events.put_rule(Name=f"r{i:05d}", EventPattern=json.dumps(pattern(i)))
    events.put_rule(Name="hot", EventPattern=json.dumps({"source": ["bench.hot"], "detail-type": ["tick"]}))
    events.put_targets(Rule="hot", Targets=[{"Id": "q", "Arn": arn}])
    return url


def put_factory(server: ServerProcess) -> WorkerFactory:
    def factory(t: int) -> Any:
        events = server.client("events")

        def call(i: int) -> None:
            sent = time.time()
            entries = [
                {"Source": "bench.hot", "DetailType": "tick", "Detail": json.dumps({"sent": sent, "kind": "tick"})}
                for _ in range(ENTRIES)
            ]
            answer = events.put_events(Entries=entries)
            if answer["FailedEntryCount"]:
                raise RuntimeError(f"{answer['FailedEntryCount']} entries failed")

        return call

    return factory


class Receiver:
    """Drains the queue on its own threads, recording how long each event took from PutEvents to the queue."""

    def __init__(self, server: ServerProcess, url: str, expected: Callable[[], int]) -> None:
        self.server, self.url, self.expected = server, url, expected
        self.delays: list[float] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(RECEIVERS)]

    def _run(self) -> None:
        sqs = self.server.client("sqs")
        while not self.stop.is_set():
            answer = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            now = time.time()
            messages = answer.get("Messages", [])
            if not messages:
                time.sleep(POLL)  # a server that answers an empty receive at once is not polled in a tight loop
            with self.lock:
                self.delays.extend(now - json.loads(m["Body"])["detail"]["sent"] for m in messages)
            if messages:
                sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )

    def __enter__(self) -> Receiver:
        _drain(self.server.client("sqs"), self.url)  # nothing left from an earlier cell
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        deadline = time.monotonic() + DRAIN
        while len(self.delays) < self.expected() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.stop.set()
        for thread in self.threads:
            thread.join(10)


def _drain(sqs: Any, url: str) -> None:
    """Receive and delete until the queue answers empty three times (PurgeQueue is once a minute on moto)."""
    empty = 0
    while empty < 3:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            empty += 1
            time.sleep(0.05)
            continue
        empty = 0
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )


def run(quick: bool = False) -> None:
    sizes = QUICK if quick else FULL
    print(f"sizes: {sizes}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cronbridge-bench-") as tmp:
        servers = [moto_server(Path(tmp) / "moto").start()]
        servers.append(cronbridge_server(Path(tmp) / "cb", launcher="noop").start())
        try:
            rows: list[list[str]] = []
            seeded = dict.fromkeys((s.name for s in servers), 0)
            for count in sizes.rules:
                for server in servers:
                    began = time.perf_counter()
                    url = seed(server, count, seeded[server.name])
                    seeded[server.name] = count
                    print(f"{server.name}: {count:,} rules in {time.perf_counter() - began:.1f} s", flush=True)
                    first = time.perf_counter()
                    put_factory(server)(0)(0)
                    print(f"{server.name}: first PutEvents after the rules changed: "
                          f"{(time.perf_counter() - first) * 1000:.0f} ms", flush=True)
                    rows += _measure(server, url, count, sizes)
            _print(rows)
        finally:
            for server in servers:
                server.stop()


def _measure(server: ServerProcess, url: str, rules: int, sizes: Sizes) -> list[list[str]]:
    out = []
    for threads in THREADS:
        sent: list[Result] = []
        with Receiver(server, url, _expected(sent)) as receiver:
            sent.append(measure(server, put_factory(server), threads, sizes.duration, warmup=1))
        out.append(_row(server.name, rules, sent[0], receiver.delays))
    return out


def _expected(sent: list[Result]) -> Callable[[], int]:
    """The events a cell sent (its warm-up call included), once it has measured (until then: more than will come)."""
    return lambda: (sent[0].calls + sent[0].threads) * ENTRIES if sent else 1 << 30


def _row(name: str, rules: int, result: Result, delays: list[float]) -> list[str]:
    if not result.calls:
        return [name, f"{rules:,}", str(result.threads), "FAILED", "-", "-", "-", result.first_error[:60]]
    events_per_s = result.rps * ENTRIES
    return [
        name, f"{rules:,}", str(result.threads), f"{events_per_s:,.0f}", f"{result.p_ms(99):.1f}",
        f"{percentile(delays, 50) * 1000:.1f}", f"{percentile(delays, 99) * 1000:.1f}",
        f"{len(delays):,}/{(result.calls + result.threads) * ENTRIES:,}",
    ]


def _print(rows: list[list[str]]) -> None:
    peers = {(r[1], r[2]): float(r[3].replace(",", "")) for r in rows if r[0] == "moto" and r[3] != "FAILED"}
    for row in rows:
        ours = float(row[3].replace(",", "")) if row[3] != "FAILED" else 0.0
        row.append("" if row[0] == "moto" else ratio(ours, peers.get((row[1], row[2]), 0.0)))
    headers = ["server", "rules", "threads", "events/s", "PutEvents p99 ms", "to SQS p50 ms", "to SQS p99 ms",
               "delivered/sent", "vs moto"]
    print("\n## PutEvents (10 entries a call) with rules on the bus\n" + render_table(headers, rows), flush=True)
