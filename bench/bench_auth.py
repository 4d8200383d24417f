"""Auth benchmark: the cost of SigV4 verification (enforce vs open) and IAM/STS over the query protocol, vs moto."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    Result,
    ServerProcess,
    client,
    cronbridge_server,
    measure,
    moto_server,
    ratio,
    render_table,
)

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@dataclass(frozen=True)
class Op:
    """One measured call: its label and, for a server endpoint, the call a thread repeats."""

    label: str
    make: Callable[[str], Callable[[int], Any]]


def _logs(endpoint: str) -> Callable[[int], Any]:
    logs = client("logs", endpoint)
    return lambda _i: logs.describe_log_groups(limit=1)


def _whoami(endpoint: str) -> Callable[[int], Any]:
    sts = client("sts", endpoint)
    return lambda _i: sts.get_caller_identity()


def _get_role(endpoint: str) -> Callable[[int], Any]:
    iam = client("iam", endpoint)
    return lambda _i: iam.get_role(RoleName="bench-role")


OPERATIONS = [Op("Logs DescribeLogGroups (JSON)", _logs), Op("STS GetCallerIdentity (query)", _whoami),
              Op("IAM GetRole (query)", _get_role)]


def _servers(work: Path) -> list[ServerProcess]:
    enforce = cronbridge_server(work / "enforce", launcher="noop")
    enforce.name = "cronbridge (enforce)"
    opened = cronbridge_server(work / "open", launcher="noop", env={"CRONBRIDGE_AUTH": "open"})
    opened.name = "cronbridge (open)"
    servers = [moto_server(work / "moto"), enforce, opened]
    for server in servers:
        server.start()
        client("iam", server.endpoint).create_role(RoleName="bench-role", AssumeRolePolicyDocument=TRUST)
    return servers


def _row(op: Op, result: Result, base: dict[int, Result]) -> list[str]:
    peer = base.get(result.threads)
    return [op.label, result.server, str(result.threads), f"{result.rps:,.0f}", f"{result.p_ms(50):.2f}",
            f"{result.p_ms(99):.2f}", f"{result.cpu_ms_per_call:.2f}",
            ratio(result.rps, peer.rps) if peer else "-", str(result.errors)]


def run(quick: bool = False) -> None:
    duration, thread_counts = (1.0, (1, 4)) if quick else (3.0, (1, 8))
    with tempfile.TemporaryDirectory(prefix="cronbridge-bench-auth-") as tmp:
        servers: list[ServerProcess] = []
        try:
            servers = _servers(Path(tmp))
            rows = []
            for op in OPERATIONS:
                for threads in thread_counts:
                    results = [measure(s, lambda _t, s=s, op=op: op.make(s.endpoint), threads, duration)
                               for s in servers]
                    base = {threads: results[0]}
                    rows += [_row(op, r, base) for r in results]
            headers = ["operation", "server", "threads", "req/s", "p50 ms", "p99 ms", "server CPU ms/call",
                       "req/s vs moto", "errors"]
            print(render_table(headers, rows), flush=True)
        finally:
            for server in servers:
                server.stop()
