"""A process task's monitor, as conmon is a container's: a small process of its own (standard library only, run as
`python -I -S monitor.py SPOOL`), in a session of its own, that outlives the server. It starts the task as its
child from SPOOL/spec.json, spools every output line to SPOOL/output, and records the exit in SPOOL/exit.json;
a server (this one after a restart, or the next) follows the spool, so a server SIGKILL loses no line and no exit
code. When the disk is full it keeps lines in memory (bounded), retries, and counts what it had to drop."""

from __future__ import annotations

import collections
import contextlib
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

SPEC, OUTPUT, EXIT, ERROR = "spec.json", "output", "exit.json", "error.json"
PID, MONITOR_PID = "task.pid", "monitor.pid"
MAX_HELD_BYTES = 64 * 1024 * 1024  # lines kept in memory while the disk refuses them; past it the oldest go
RETRY_SECONDS = 0.5


def record(stream: str, when_ns: int, line: bytes) -> bytes:
    """One spooled line: a header `stream nanoseconds length`, then the raw bytes and a newline."""
    return f"{stream} {when_ns} {len(line)}\n".encode("ascii") + line + b"\n"


def start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except OSError:
        return "0"


class Spool:
    """The output file, written in order; lines wait in memory (bounded) while the disk is full."""

    def __init__(self, path: Path) -> None:
        self.handle: IO[bytes] = open(path, "ab", buffering=0)  # noqa: SIM115 - open while the task runs
        self.lock = threading.Lock()
        self.held: collections.deque[bytes] = collections.deque()
        self.held_bytes = 0
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        with self.lock:
            self.held.append(chunk)
            self.held_bytes += len(chunk)
            while self.held_bytes > MAX_HELD_BYTES and len(self.held) > 2:
                self.held_bytes -= len(self.held[1])  # the first may be a record half written: it stays
                del self.held[1]
                self.dropped += 1
            self._write_held()

    def _write_held(self) -> bool:
        """Write what waits, in order; False (kept for later) when the disk refuses. A write the disk cuts short
        keeps its unwritten rest first in line, so records are never torn."""
        while self.held:
            chunk = self.held[0]
            try:
                written = self.handle.write(chunk) or 0
            except OSError as exc:
                if no_room(exc):
                    return False  # kept for a later try
                self.dropped += len(self.held)  # the spool is unusable: what waits cannot be kept
                self.held.clear()
                self.held_bytes = 0
                return True
            self.held_bytes -= written
            if written < len(chunk):
                self.held[0] = chunk[written:]
                return False
            self.held.popleft()
        return True

    def drain(self) -> None:
        """Keep retrying until everything waiting is written (the disk may free up)."""
        while True:
            with self.lock:
                if self._write_held():
                    return
            time.sleep(RETRY_SECONDS)


def pump(pipe: IO[bytes], stream: str, spool: Spool) -> None:
    for raw in iter(pipe.readline, b""):
        spool.add(record(stream, time.time_ns(), raw.removesuffix(b"\n")))


def child_setup(spec: dict[str, Any]) -> Any:
    """What the task's process does before exec: join its cgroup, set its rlimits, and only then become its user
    (who could no longer join)."""
    procs = [str(path) for path in spec.get("cgroup_procs") or []]
    rlimits = [(int(kind), int(soft), int(hard)) for kind, soft, hard in spec.get("rlimits") or []]
    user = spec.get("user")
    if not procs and not rlimits and not user:
        return None

    def setup() -> None:
        for path in procs:
            with open(path, "w") as handle:
                handle.write(str(os.getpid()))
        for kind, soft, hard in rlimits:
            resource.setrlimit(kind, (soft, hard))
        if user:
            os.setgroups([])
            os.setgid(int(user[1]))
            os.setuid(int(user[0]))

    return setup


def persist(path: Path, text: str) -> None:
    """Write a small file whole (readers never see half of it), waiting for room if the disk is full."""
    temporary = path.with_name(path.name + ".tmp")
    while True:
        try:
            temporary.write_text(text)
            os.replace(temporary, path)
            return
        except OSError as exc:
            if not no_room(exc):  # the spool is gone (its task was cleaned up): nobody will read it
                return
            time.sleep(RETRY_SECONDS)


def no_room(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def run(folder: Path) -> int:
    persist(folder / MONITOR_PID, f"{os.getpid()} {start_time(os.getpid())}\n")
    spec = json.loads((folder / SPEC).read_text())
    try:
        proc = subprocess.Popen(
            spec["argv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env=spec["env"], cwd=spec.get("cwd") or None, start_new_session=True, preexec_fn=child_setup(spec),
        )
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        persist(folder / ERROR, json.dumps({"message": str(exc)}))
        return 1
    persist(folder / PID, f"{proc.pid} {start_time(proc.pid)}\n")
    spool = Spool(folder / OUTPUT)
    assert proc.stdout is not None and proc.stderr is not None
    pumps = [threading.Thread(target=pump, args=(pipe, name, spool), daemon=True)
             for pipe, name in ((proc.stdout, "stdout"), (proc.stderr, "stderr"))]
    for thread in pumps:
        thread.start()
    code = proc.wait()
    finished = time.time()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # as when a container's PID 1 exits: the rest of it goes too
    for thread in pumps:
        thread.join(30)
    spool.drain()
    outcome = {"exit_code": 128 - code if code < 0 else code, "finished_at": finished, "dropped": spool.dropped}
    persist(folder / EXIT, json.dumps(outcome))  # the one thing that must be recorded: waits for room if need be
    return 0


def main() -> int:
    """`monitor.py SPOOL`, or `monitor.py --wait`: started ahead of time (the interpreter's start-up off the task's
    path), it reads its spool folder from stdin; EOF (the server went away first) ends it having started nothing."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the server's terminal going away is not the task's end
    if sys.argv[1] != "--wait":
        return run(Path(sys.argv[1]))
    folder = sys.stdin.readline().strip()
    sys.stdin.close()
    return run(Path(folder)) if folder else 0


if __name__ == "__main__":
    sys.exit(main())
