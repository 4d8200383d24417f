"""Shared benchmark helpers: server child processes, timed client threads, percentiles, tables."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
Call = Callable[[int], Any]
"""One timed request: called with a per-thread sequence number."""
WorkerFactory = Callable[[int], Call]
"""Builds, for thread number t, its own clients and returns the call that thread repeats."""


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted samples; 0.0 when there are none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[min(len(ordered), int(rank)) - 1]


def proc_status_kib(pid: int, key: str) -> int | None:
    """A `kB` field (VmRSS, VmHWM) of /proc/<pid>/status, or None when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# cronbridge servers started here take this as their administrator's key (moto accepts any)
BENCH_KEY = "AKIDBENCH"
BENCH_SECRET = "bench-secret"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc/<pid>/stat); 0.0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(pid: int) -> list[int]:
    """A server and its worker processes (Python children: `cronbridge server --workers N`), not the tasks they run."""
    found = [pid]
    try:
        threads = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for thread in threads:
        try:
            children = (thread / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                comm = Path(f"/proc/{child}/comm").read_text().strip()
            except OSError:
                continue
            if comm.startswith("python"):
                found.append(int(child))
    return found


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for `endpoint` with retries off, signing as the bench administrator."""
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=BENCH_KEY, aws_secret_access_key=BENCH_SECRET,
        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                      max_pool_connections=16, read_timeout=120),
    )


@dataclass
class ServerProcess:
    """A server in a child process on a free loopback port, ready once `probe` answers HTTP 200."""

    name: str
    args: list[str]
    probe: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not running"
        return self.proc.pid

    def start(self, timeout: float = 60) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = [a.replace("{port}", str(self.port)) for a in self.args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         env={**os.environ, **self.env})
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early: {self.log_tail()}")
            try:
                self.get(self.probe)
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout} s: {self.log_tail()}")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.endpoint + path, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def client(self, service: str) -> Any:
        return client(service, self.endpoint)

    def rss_mib(self) -> tuple[float, float]:
        """(current, peak) resident memory of the server's processes in MiB (VmRSS, VmHWM, summed over workers)."""
        pids = server_pids(self.pid)
        rss = sum(proc_status_kib(p, "VmRSS") or 0 for p in pids)
        hwm = sum(proc_status_kib(p, "VmHWM") or 0 for p in pids)
        return rss / 1024, hwm / 1024

    def cpu_seconds(self) -> float:
        """CPU seconds of the server's processes (the supervisor and its workers)."""
        return sum(cpu_seconds(p) for p in server_pids(self.pid))

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


def signed_request(endpoint: str, path: str, key: str = BENCH_KEY,
                   secret: str = BENCH_SECRET) -> urllib.request.Request:
    """A GET of one of cronbridge's own endpoints, SigV4-signed for the `cronbridge` service (they are authorized
    like AWS calls)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed = AWSRequest(method="GET", url=endpoint + path)
    SigV4Auth(Credentials(key, secret), "cronbridge", REGION).add_auth(signed)
    return urllib.request.Request(endpoint + path, headers=dict(signed.headers.items()), method="GET")


def cronbridge_server(data_dir: Path, launcher: str | None = "process",
                      env: dict[str, str] | None = None) -> ServerProcess:
    """`python -m cronbridge server` (not started), own data folder; launcher None = from env."""
    args = [sys.executable, "-m", "cronbridge", "server", "--port", "{port}",
            "--data-dir", str(data_dir), "--allow-reset"]
    if launcher:
        args += ["--launcher", launcher]
    admin = {"CRONBRIDGE_ADMIN_ACCESS_KEY_ID": BENCH_KEY, "CRONBRIDGE_ADMIN_SECRET_ACCESS_KEY": BENCH_SECRET}
    return ServerProcess("cronbridge", args, "/_cronbridge/health", data_dir / "server.log",
                         env={**admin, **(env or {})}, port=free_port())


def moto_server(work_dir: Path) -> ServerProcess:
    """`python -m moto.server` (not started): moto's standalone server, the peer."""
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"]
    log = work_dir / "moto.log"
    return ServerProcess("moto", args, "/moto-api/data.json", log, port=free_port())


@dataclass
class Result:
    """What one (server, threads) cell measured: latencies of successful calls and any errors."""

    server: str
    threads: int
    seconds: float
    latencies: list[float]
    server_cpu: float = 0.0
    errors: int = 0
    first_error: str = ""

    @property
    def calls(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    def p_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def cpu_ms_per_call(self) -> float:
        return self.server_cpu * 1000 / self.calls if self.calls else 0.0


class _Recorder:
    """Collects latencies and errors from the worker threads of one measurement."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error = ""

    def add(self, samples: list[float]) -> None:
        with self.lock:
            self.latencies.extend(samples)

    def fail(self, error: BaseException) -> None:
        with self.lock:
            self.errors += 1
            self.first_error = self.first_error or f"{type(error).__name__}: {error}"[:300]


def _worker(call: Call, start: threading.Barrier, deadline: list[float], max_calls: int,
            recorder: _Recorder) -> None:
    samples: list[float] = []
    start.wait()
    i = 0
    while i < max_calls and time.perf_counter() < deadline[0]:
        began = time.perf_counter()
        try:
            call(i)
        except Exception as error:  # noqa: BLE001 - a failing server must not stop the bench
            recorder.fail(error)
            break
        samples.append(time.perf_counter() - began)
        i += 1
    recorder.add(samples)


def measure(server: ServerProcess, factory: WorkerFactory, threads: int, duration: float,
            max_calls: int = 1_000_000, warmup: int = 2) -> Result:
    """Run `threads` threads, each repeating its own call for `duration` s (or max_calls each)."""
    recorder = _Recorder()
    try:
        calls = [_warmed(factory(t), warmup) for t in range(threads)]
    except Exception as error:  # noqa: BLE001
        recorder.fail(error)
        return Result(server.name, threads, 0.0, [], errors=1, first_error=recorder.first_error)
    barrier, deadline = threading.Barrier(threads + 1), [float("inf")]
    pool = [threading.Thread(target=_worker, args=(c, barrier, deadline, max_calls, recorder))
            for c in calls]
    for thread in pool:
        thread.start()
    cpu_before, began = server.cpu_seconds(), time.perf_counter()
    deadline[0] = began + duration
    barrier.wait()
    for thread in pool:
        thread.join()
    elapsed, cpu = time.perf_counter() - began, server.cpu_seconds() - cpu_before
    return Result(server.name, threads, elapsed, recorder.latencies, cpu,
                  recorder.errors, recorder.first_error)


def _warmed(call: Call, warmup: int) -> Call:
    """Make `warmup` untimed calls (negative sequence numbers) so connections and caches exist."""
    for i in range(warmup):
        call(-1 - i)
    return call


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain monospace table: header, rule, rows; columns right-aligned except the first."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def ratio(ours: float, peer: float) -> str:
    """`ours/peer` as '3.2x', or '-' when either side is missing."""
    return f"{ours / peer:.1f}x" if ours > 0 and peer > 0 else "-"
